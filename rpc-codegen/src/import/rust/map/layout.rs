//! Files, folders and type names: where each proto type goes and what it is called.

use super::*;

impl Gen<'_> {
    /// The Rust file for the TypeScript file `ts` (`room/PtlJoin`), made on first use;
    /// `service` gives a service file's stem.
    pub(super) fn file_for(&mut self, ts: &str, service: Option<String>) -> usize {
        if let Some(&i) = self.file_by_ts.get(ts) {
            return i;
        }
        let (dirs, last) = match ts.rsplit_once('/') {
            Some((d, l)) => (
                d.split('/')
                    .filter(|p| !p.is_empty() && *p != ".")
                    .collect(),
                l,
            ),
            None => (Vec::new(), ts),
        };
        let mut folder: Vec<String> = Vec::new();
        for dir in dirs {
            let wanted = if dir == ".." {
                "parent".to_owned()
            } else {
                module_name(dir, "folder")
            };
            let taken = self.modules.entry(folder.clone()).or_default();
            let name = match taken.iter().find(|(_, ts)| *ts == &format!("{dir}/")) {
                Some((name, _)) => name.clone(),
                None => {
                    let name = unique(&wanted, |n| taken.contains_key(n), "_");
                    taken.insert(name.clone(), format!("{dir}/"));
                    name
                }
            };
            folder.push(name);
        }
        let wanted = match service {
            Some(stem) => stem,
            None => {
                let stem = module_name(last, "types");
                if stem.starts_with("ptl_")
                    || stem.starts_with("msg_")
                    || ["mod", "lib", "main"].contains(&stem.as_str())
                {
                    format!("{stem}_types")
                } else {
                    stem
                }
            }
        };
        let taken = self.modules.entry(folder.clone()).or_default();
        let stem = unique(&wanted, |n| taken.contains_key(n), "_");
        taken.insert(stem.clone(), ts.to_owned());
        self.files.push(RsFile {
            ts: ts.to_owned(),
            folder,
            stem,
            roots: Vec::new(),
            conf: None,
        });
        self.file_by_ts.insert(ts.to_owned(), self.files.len() - 1);
        self.files.len() - 1
    }

    /// Takes a type name in the file's folder: `wanted`, or `wanted2`, `wanted3`, .. when taken.
    pub(super) fn take_name(&mut self, file: usize, wanted: &str) -> String {
        let folder = self.files[file].folder.clone();
        let root = folder.is_empty();
        let reserved = &self.opts.reserved;
        let used = self.used.entry(folder).or_default();
        let name = unique(
            wanted,
            |n| used.contains(n) || (root && reserved.iter().any(|r| r == n)),
            "",
        );
        used.insert(name.clone());
        name
    }

    pub(super) fn register(&mut self, id: &str, rust: String, file: usize) {
        self.files[file].roots.push(id.to_owned());
        self.named.insert(
            id.to_owned(),
            NamedType {
                rust,
                file,
                state: State::Todo,
                null: false,
                undef: false,
                null_alias: false,
            },
        );
    }

    /// Files and names: the services' types first (they need their exact names), then every
    /// other type in proto order.
    pub(super) fn layout(&mut self, errors: &mut Vec<ImportError>) {
        let mut order: Vec<(String, usize, String)> = Vec::new();
        for svc in &self.proto.services {
            let (dir, last) = svc.split_name();
            let (prefix, stem_prefix) = match svc.kind {
                ServiceKind::Api => ("Ptl", "ptl_"),
                ServiceKind::Msg => ("Msg", "msg_"),
            };
            let ts = if dir.is_empty() {
                format!("{prefix}{last}")
            } else {
                format!("{dir}/{prefix}{last}")
            };
            let stem = format!("{stem_prefix}{}", module_name(last, "service"));
            let file = self.file_for(&ts, Some(stem));
            // The folder check reads the service back from the file name: `ptl_get_http_data`
            // is `GetHttpData`, whose types are `ReqGetHttpData` and `ResGetHttpData`.
            let base = heck::ToUpperCamelCase::to_upper_camel_case(
                &self.files[file].stem[stem_prefix.len()..],
            );
            let mut rust_name: Vec<String> = self.files[file].folder.clone();
            rust_name.push(base.clone());
            self.files[file].conf = svc.conf.clone();
            self.services.push(ImportedService {
                id: svc.id,
                name: svc.name.clone(),
                kind: svc.kind,
                rust_name: rust_name.join("/"),
                conf: svc.conf.clone(),
            });
            let roles: &[&str] = match svc.kind {
                ServiceKind::Api => &["Req", "Res"],
                ServiceKind::Msg => &["Msg"],
            };
            for (id, role) in svc.type_ids().into_iter().zip(roles) {
                if self.proto.get(&id).is_none() {
                    errors.push(invalid(
                        &id,
                        format!(
                            "service `{}` needs this type, which is not in the proto's types",
                            svc.name
                        ),
                    ));
                    continue;
                }
                self.service_types.insert(id.clone());
                order.push((id, file, format!("{role}{base}")));
            }
        }
        for (id, file, name) in order {
            if self.named.contains_key(&id) {
                continue;
            }
            let name = self.take_name(file, &name);
            self.register(&id, name, file);
        }
        let ids: Vec<String> = self.proto.types.iter().map(|(k, _)| k.clone()).collect();
        for id in ids {
            if self.named.contains_key(&id) {
                continue;
            }
            let (ts, ts_name) = id.rsplit_once('/').unwrap_or(("", id.as_str()));
            let file = self.file_for(ts, None);
            let name = self.take_name(file, &type_name(ts_name));
            self.register(&id, name, file);
        }
    }

    /// Base name for the inline types of an owner's properties.
    pub(super) fn base_of(&self, owner: &Owner) -> String {
        if let Some(b) = self.bases.get(&owner.key) {
            return b.clone();
        }
        match self.named.get(&owner.root) {
            Some(n) => strip_role(&n.rust).to_owned(),
            None => "Inline".to_owned(),
        }
    }
}

impl Gen<'_> {
    /// How a file names a type declared in file `to`, from file `from`.
    pub(crate) fn path_to(&self, from: usize, to: usize, name: &str) -> String {
        if from == to {
            return name.to_owned();
        }
        let (fa, fb) = (&self.files[from].folder, &self.files[to].folder);
        if fa == fb {
            return format!("super::{name}");
        }
        let mut parts: Vec<String> = vec!["super".to_owned(); fa.len() + 1];
        parts.extend(fb.iter().map(|m| crate::parse::naming::spell(m)));
        parts.push(name.to_owned());
        parts.join("::")
    }
}
