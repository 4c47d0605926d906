//! Recursive types: `Box` where a cycle has nothing else (a `Vec`, a map) to break it, and a
//! newtype for a recursive alias (Rust refuses those).

use super::*;

impl Gen<'_> {
    /// `Box`es every by-value use of a type that leads back to the type using it, and turns a
    /// type alias on a cycle (Rust refuses recursive aliases) into a transparent newtype.
    pub(super) fn box_recursion(&mut self) {
        // Edges between items, by value and through containers.
        let key = |file: usize, name: &str| format!("{file}:{name}");
        let mut by_value: HashMap<String, Vec<String>> = HashMap::new();
        let mut any: HashMap<String, Vec<String>> = HashMap::new();
        let mut aliases: HashSet<String> = HashSet::new();
        for (root, items) in &self.slots {
            let file = self.named[root].file;
            for item in items {
                let k = key(file, item.name());
                if matches!(item, Item::Alias { .. }) {
                    aliases.insert(k.clone());
                }
                let mut item = item.clone();
                for ty in item.types_mut() {
                    let (mut v, mut a) = (Vec::new(), Vec::new());
                    named_uses(ty, true, &mut v, &mut a);
                    by_value.entry(k.clone()).or_default().extend(v);
                    any.entry(k.clone()).or_default().extend(a);
                }
            }
        }
        let reaches = |graph: &HashMap<String, Vec<String>>, from: &str, to: &str| {
            let mut seen: HashSet<&str> = HashSet::new();
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n) {
                    if let Some(next) = graph.get(n) {
                        stack.extend(next.iter().map(String::as_str));
                    }
                }
            }
            false
        };
        let named: HashMap<String, usize> = self
            .named
            .iter()
            .map(|(id, n)| (id.clone(), n.file))
            .collect();
        for (root, items) in self.slots.iter_mut() {
            let file = named[root];
            for item in items.iter_mut() {
                let k = key(file, item.name());
                let on_cycle = any
                    .get(&k)
                    .is_some_and(|next| next.iter().any(|n| reaches(&any, n, &k)));
                if aliases.contains(&k) && on_cycle {
                    if let Item::Alias { name, doc, ty } = item.clone() {
                        *item = Item::TupleStruct {
                            name,
                            doc,
                            elems: vec![ty],
                            optional_from: usize::MAX,
                        };
                    }
                }
                for ty in item.types_mut() {
                    box_cycles(ty, &|target: &str| reaches(&by_value, target, &k), &key);
                }
            }
        }
    }
}

/// Collects the items a type uses: by value (`by_value`, when `direct`) and at all (`any`).
pub(super) fn named_uses(ty: &Ty, direct: bool, by_value: &mut Vec<String>, any: &mut Vec<String>) {
    match ty {
        Ty::Named { file, name } => {
            let k = format!("{file}:{name}");
            if direct {
                by_value.push(k.clone());
            }
            any.push(k);
        }
        Ty::Opt(t) | Ty::Nullable(t) => named_uses(t, direct, by_value, any),
        Ty::Tuple(ts) => ts.iter().for_each(|t| named_uses(t, direct, by_value, any)),
        Ty::Vec(t) | Ty::Map(t) | Ty::Boxed(t) => named_uses(t, false, by_value, any),
        _ => {}
    }
}

/// Wraps in `Box` each by-value use of a type for which `cycles` is true.
pub(super) fn box_cycles(
    ty: &mut Ty,
    cycles: &dyn Fn(&str) -> bool,
    key: &dyn Fn(usize, &str) -> String,
) {
    match ty {
        Ty::Named { file, name } if cycles(&key(*file, name)) => {
            *ty = Ty::Boxed(Box::new(ty.clone()));
        }
        Ty::Opt(t) | Ty::Nullable(t) => box_cycles(t, cycles, key),
        Ty::Tuple(ts) => ts.iter_mut().for_each(|t| box_cycles(t, cycles, key)),
        _ => {}
    }
}
