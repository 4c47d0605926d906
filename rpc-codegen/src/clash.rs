//! Names the service module would hold twice. Every protocol file is re-exported into its
//! folder's module (`pub use ptl_login::*`), next to what the macro generates there. A helper
//! with a generated name (`Client`, `Msg`, `ChatService`, `service_proto`, a file's or
//! sub-folder's module) would be hidden behind the generated item without a word from rustc;
//! a name two files of one folder declare is ambiguous, and rustc's E0659 would point at the
//! macro's attribute. Both are reported here, naming both places.

use proc_macro2::Span;

use crate::diagnostic::Ctxt;
use crate::model::{DeclaredName, ModuleDef};
use crate::render::ident::{self, Generated};

/// Checks every folder of the tree of the service `service`.
pub(crate) fn check_names(cx: &Ctxt, span: Span, service: &str, module: &ModuleDef) {
    walk(
        cx,
        span,
        service,
        module,
        &mut vec![ident::rust_name(service)],
        true,
    );
}

fn walk(
    cx: &Ctxt,
    span: Span,
    service: &str,
    module: &ModuleDef,
    path: &mut Vec<String>,
    root: bool,
) {
    check_module(
        cx,
        span,
        &ident::module_names(service, module, root),
        module,
        &path.join("::"),
    );
    for child in &module.children {
        path.push(ident::rust_name(&child.name));
        walk(cx, span, service, child, path, false);
        path.pop();
    }
}

/// One folder's module: `generated` are the macro's names there, `shown` its Rust path.
fn check_module(cx: &Ctxt, span: Span, generated: &[Generated], module: &ModuleDef, shown: &str) {
    let mut seen: Vec<&DeclaredName> = Vec::new();
    for name in module.files.iter().flat_map(|f| &f.names) {
        let same = |n: &str, ns| n == name.ident && name.namespace.overlaps(ns);
        if let Some(g) = generated.iter().find(|g| same(&g.name, g.namespace)) {
            cx.error_at(
                span,
                format!(
                    "{}: {} `{}` has the name of {} that the service macro generates in `{shown}` \
                     (`{shown}::{}`), which would hide it: rename it",
                    name.origin, name.kind, name.ident, g.what, g.name
                ),
            );
        } else if let Some(first) = seen.iter().find(|s| same(&s.ident, s.namespace)) {
            cx.error_at(
                span,
                format!(
                    "{}: {} `{}` is also declared at {}: every file of the folder is re-exported \
                     into `{shown}`, where the name would be ambiguous: declare it once (other \
                     files can `use` it) or rename one",
                    name.origin, name.kind, name.ident, first.origin
                ),
            );
        } else {
            seen.push(name);
        }
    }
}
