//! Names the service module would hold twice. Every protocol file is re-exported into its
//! folder's module (`pub use ptl_login::*`), next to what the macro generates there. A helper
//! with a generated name (`Client`, `Msg`, `ChatService`, `service_proto`, a file's or
//! sub-folder's module) would be hidden behind the generated item without a word from rustc;
//! a name two files of one folder declare is ambiguous, and rustc's E0659 would point at the
//! macro's attribute. Both are reported here, naming both places.

use proc_macro2::Span;

use crate::diagnostic::Ctxt;
use crate::model::{ApiDef, DeclaredName, ModuleDef, MsgDef, Namespace, Source};
use crate::render::ident::{self, Generated};

/// A name two files of a folder declare: `(folder, name)`, the folder as in
/// [`Source::Folder`].
type Ambiguous = (Vec<String>, String);

/// Checks every folder of the tree of the service `service`, and leaves out of `apis` and
/// `msgs` those whose types are ambiguous (the glue naming them would only add rustc's errors
/// to the one here).
pub(crate) fn check_names(
    cx: &Ctxt,
    span: Span,
    service: &str,
    module: &ModuleDef,
    apis: &mut Vec<ApiDef>,
    msgs: &mut Vec<MsgDef>,
) {
    let mut ambiguous = Vec::new();
    let mut walker = Walker {
        cx,
        span,
        service,
        folder: Vec::new(),
        shown: vec![ident::rust_name(service)],
        ambiguous: &mut ambiguous,
    };
    walker.walk(module);
    let is_ambiguous = |source: &Source, ty: &str| match source {
        Source::Folder { folder, .. } => ambiguous.iter().any(|(f, n)| f == folder && n == ty),
        Source::Extra { .. } => false,
    };
    apis.retain(|a| !is_ambiguous(&a.source, &a.req) && !is_ambiguous(&a.source, &a.res));
    msgs.retain(|m| !is_ambiguous(&m.source, &m.ty));
}

struct Walker<'a> {
    cx: &'a Ctxt,
    span: Span,
    service: &'a str,
    /// The folder being checked, as named on disk (`["room"]`).
    folder: Vec<String>,
    /// Its module's Rust path (`["chat", "room"]`).
    shown: Vec<String>,
    ambiguous: &'a mut Vec<Ambiguous>,
}

impl Walker<'_> {
    fn walk(&mut self, module: &ModuleDef) {
        let generated = ident::module_names(self.service, module, self.folder.is_empty());
        self.check_module(&generated, module);
        for child in &module.children {
            self.folder.push(child.name.clone());
            self.shown.push(ident::rust_name(&child.name));
            self.walk(child);
            self.folder.pop();
            self.shown.pop();
        }
    }

    /// One folder's module: `generated` are the macro's names there.
    fn check_module(&mut self, generated: &[Generated], module: &ModuleDef) {
        let shown = self.shown.join("::");
        let mut seen: Vec<&DeclaredName> = Vec::new();
        for name in module.files.iter().flat_map(|f| &f.names) {
            let same = |n: &str, ns| n == name.ident && name.namespace.overlaps(ns);
            if let Some(g) = generated.iter().find(|g| same(&g.name, g.namespace)) {
                self.cx.error_at(
                    self.span,
                    format!(
                        "{}: {} `{}` has the name of {} that the service macro generates in \
                         `{shown}` (`{shown}::{}`), which would hide it: rename it",
                        name.origin, name.kind, name.ident, g.what, g.name
                    ),
                );
            } else if let Some(first) = seen.iter().find(|s| same(&s.ident, s.namespace)) {
                self.cx.error_at(
                    self.span,
                    format!(
                        "{}: {} `{}` is also declared at {}: every file of the folder is \
                         re-exported into `{shown}`, where the name would be ambiguous: declare \
                         it once (other files can `use` it) or rename one",
                        name.origin, name.kind, name.ident, first.origin
                    ),
                );
                if name.namespace != Namespace::Value {
                    self.ambiguous
                        .push((self.folder.clone(), name.ident.clone()));
                }
            } else {
                seen.push(name);
            }
        }
    }
}
