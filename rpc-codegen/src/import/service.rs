//! `#[service(tsrpc_proto = "..")]`: a TSRPC service proto read, imported as an in-memory Rust
//! protocol folder, and run through the same pipeline as a folder on disk.

use std::path::Path;

use heck::ToUpperCamelCase;
use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::json::{pos_of, Layout, Pos};
use super::proto::ServiceProto;
use super::rust::{import, ImportOptions, ImportedFolder};
use crate::diagnostic::Ctxt;
use crate::expand::{check_service, Folder};
use crate::model::{ServiceModel, Source};
use crate::parse;

/// What the service macro needs from an imported proto.
#[derive(Debug)]
pub(crate) struct Loaded {
    /// The service model (the services keep the proto's names).
    pub(crate) model: ServiceModel,
    /// Items for the service module: the proto itself (`TSRPC_PROTO`) and the tracking of
    /// the file, so the crate is rebuilt when it changes.
    pub(crate) extra: TokenStream,
}

/// Reads the proto at `path` (shown as `display`), imports it and checks the result as a
/// protocol folder. Errors go to `cx`, spanned at `span`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn load(
    cx: &Ctxt,
    span: Span,
    name: &str,
    path: &Path,
    display: &str,
    skip_unsupported: bool,
    krate: &syn::Path,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
) -> Loaded {
    let model = ServiceModel {
        name: name.to_owned(),
        display_root: display.to_owned(),
        root: path.to_path_buf(),
        module: Default::default(),
        apis: Vec::new(),
        msgs: Vec::new(),
    };
    let abs = path.to_string_lossy().into_owned();
    // `include_bytes!` makes cargo rebuild the crate when the proto changes.
    let track = quote!(
        const _: &[u8] = ::core::include_bytes!(#abs);
    );
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            cx.error_at(
                span,
                format!(
                    "cannot read TSRPC proto `{display}` (resolved to `{}`): {e}",
                    path.display()
                ),
            );
            return Loaded {
                model,
                extra: TokenStream::new(),
            };
        }
    };
    let proto = match ServiceProto::parse(&text, display) {
        Ok(p) => p,
        Err(e) => {
            cx.error_at(span, e.to_string());
            return Loaded {
                model,
                extra: track,
            };
        }
    };
    let runtime = quote!(#krate).to_string().replace(' ', "");
    let mut opts = ImportOptions {
        runtime,
        skip_unsupported_optional_fields: skip_unsupported,
        ..ImportOptions::default()
    };
    opts.reserved
        .push(format!("{}Service", name.to_upper_camel_case()));
    let folder = match import(&proto, &opts) {
        Ok(f) => f,
        Err(errors) => {
            for e in errors {
                let at = locate(&text, &e.path);
                cx.error_at(span, format!("{display}:{at}: {e}"));
            }
            return Loaded {
                model,
                extra: track,
            };
        }
    };
    let module = parse::load_memory(cx, span, &folder.files, display);
    let checked = Folder {
        root: path,
        display_root: display,
        module,
    };
    let model = check_service(
        cx,
        span,
        name,
        checked,
        extra_apis,
        extra_msgs,
        |apis, msgs| rename_services(&folder, apis, msgs),
    );
    let json = proto.to_json_text(Layout::Indent(4));
    let doc = format!(
        " The TSRPC service proto this service was imported from (`{display}`), as `tsrpc-cli` writes it: every service id, property id and union member id, which TSRPC's binary mode sends."
    );
    Loaded {
        model,
        extra: quote! {
            #track
            #[doc = #doc]
            pub const TSRPC_PROTO: &str = #json;
        },
    }
}

/// The folder check names a service after its Rust file (`my_room/GetHttpData`); on the wire
/// it keeps the proto's name (`my-room/GetHTTPData`).
fn rename_services(
    folder: &ImportedFolder,
    apis: &mut [crate::model::ApiDef],
    msgs: &mut [crate::model::MsgDef],
) {
    let proto_name = |rust: &str, kind| {
        folder
            .services
            .iter()
            .find(|s| s.rust_name == rust && s.kind == kind)
            .map(|s| s.name.clone())
    };
    for a in apis.iter_mut() {
        if matches!(a.source, Source::Folder { .. }) {
            if let Some(n) = proto_name(&a.name, super::proto::ServiceKind::Api) {
                a.name = n;
            }
        }
    }
    for m in msgs.iter_mut() {
        if matches!(m.source, Source::Folder { .. }) {
            if let Some(n) = proto_name(&m.name, super::proto::ServiceKind::Msg) {
                m.name = n;
            }
        }
    }
}

/// Where an import error's path (`shop/ShopTypes/OnChainBalance.raw`) is in the proto's text:
/// the type's key, then the property's `name` after it; the start of the file when not found.
pub(crate) fn locate(text: &str, path: &str) -> Pos {
    // The longest prefix that is a type key (ids may hold dots: `Leaderboard.Entry`).
    let cuts = path
        .char_indices()
        .filter(|(_, c)| matches!(c, '.' | '|' | '['))
        .map(|(i, _)| i)
        .chain([path.len()]);
    let mut found: Option<(usize, &str)> = None;
    for cut in cuts {
        let id = &path[..cut];
        let mut key = String::new();
        super::json::write_string(&mut key, id);
        if let Some(at) = text.find(&format!("{key}:")) {
            found = Some((at, &path[cut..]));
        }
    }
    let Some((mut at, rest)) = found else {
        return Pos { line: 1, column: 1 };
    };
    if let Some(field) = rest
        .strip_prefix('.')
        .map(|r| r.split(['.', '|', '[']).next().unwrap_or(r))
    {
        let mut quoted = String::new();
        super::json::write_string(&mut quoted, field);
        for pattern in [format!("\"name\": {quoted}"), format!("\"name\":{quoted}")] {
            if let Some(i) = text[at..].find(&pattern) {
                at += i;
                break;
            }
        }
    }
    pos_of(text, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_located_in_the_proto() {
        let text = "{\n  \"types\": {\n    \"a/B\": {\"type\": \"Interface\"},\n    \"a/C.D\": {\"type\": \"Interface\", \"properties\": [\n      {\"id\": 0, \"name\": \"x\"}, {\"id\": 1, \"name\": \"raw\"}]}\n  }\n}";
        assert_eq!(locate(text, "a/B").to_string(), "3:5");
        assert_eq!(locate(text, "a/C.D.raw").to_string(), "5:41");
        assert_eq!(locate(text, "a/C.D|1").to_string(), "4:5");
        assert_eq!(locate(text, "z/Z").to_string(), "1:1");
    }
}
