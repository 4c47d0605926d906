//! The macros' whole pipeline: arguments -> folder -> model -> checks -> tokens, with a
//! fallback expansion when something is wrong (every error, plus the glue for whatever is
//! valid, so one mistake does not cascade into a flood of follow-on errors).

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::diagnostic::{to_compile_errors, Ctxt, Diagnostic, Diagnostics};
use crate::lock::{self, MacroProto};
use crate::model::{ApiDef, ModuleDef, MsgDef, ServiceModel};
use crate::parse::attr::{RpcAttr, ServiceArgs, API_KEYS, MESSAGE_KEYS};
use crate::parse::{self, has_skip_serializing, is_option};
use crate::render::{default_crate, generate_with, pretty};
use crate::{check, clash};

/// Where the macro was invoked, to resolve the protocol folder.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    /// The invoking source file (`proc_macro::Span::local_file()`), absolute or relative to `cwd`.
    pub file: Option<PathBuf>,
    /// The compiler's working directory.
    pub cwd: Option<PathBuf>,
    /// `CARGO_MANIFEST_DIR`, the fallback when the file is unknown.
    pub manifest_dir: Option<PathBuf>,
}

impl Invocation {
    /// The root of the package that holds the invoking file: the nearest folder above it with
    /// a `Cargo.toml`. Under trybuild the file stays in place while the crate is generated
    /// elsewhere, so the file, not `CARGO_MANIFEST_DIR`, decides.
    pub fn package_root(&self) -> Option<PathBuf> {
        let file = self.file.as_ref().map(|f| match &self.cwd {
            Some(cwd) if f.is_relative() => cwd.join(f),
            _ => f.clone(),
        });
        if let Some(file) = file {
            if let Some(root) = file
                .ancestors()
                .skip(1)
                .find(|d| d.join("Cargo.toml").is_file())
            {
                return Some(root.to_path_buf());
            }
        }
        self.manifest_dir.clone().or_else(|| self.cwd.clone())
    }
}

/// Builds the model of the service `name` from the folder `root` (shown as `display_root`)
/// plus the listed extras. Errors go to `cx`, spanned at `span`.
pub(crate) fn load_service(
    cx: &Ctxt,
    span: Span,
    name: &str,
    root: &Path,
    display_root: &str,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
) -> ServiceModel {
    let module = parse::load_dir(cx, span, root, display_root).unwrap_or_default();
    let folder = Folder {
        root,
        display_root,
        module,
    };
    check_service(cx, span, name, folder, extra_apis, extra_msgs, |_, _| {})
}

/// A protocol folder read into a module tree, on disk or in memory (an imported proto).
pub(crate) struct Folder<'a> {
    /// Where it is (the folder, or the imported proto file).
    pub(crate) root: &'a Path,
    /// How messages show it.
    pub(crate) display_root: &'a str,
    /// Its files.
    pub(crate) module: ModuleDef,
}

/// Every rule of the service macro on a folder's module tree, plus the extras: the model of
/// whatever is valid. `rename` may give the folder's services other wire names (an imported
/// proto keeps TSRPC's) before the duplicate check.
pub(crate) fn check_service(
    cx: &Ctxt,
    span: Span,
    name: &str,
    folder: Folder<'_>,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
    rename: impl FnOnce(&mut [ApiDef], &mut [MsgDef]),
) -> ServiceModel {
    let module = folder.module;
    let (mut apis, mut msgs) = check::check_files(cx, span, &module);
    clash::check_names(cx, span, name, &module, &mut apis, &mut msgs);
    rename(&mut apis, &mut msgs);
    apis.extend(extra_apis.iter().filter_map(|p| check::extra_api(cx, p)));
    msgs.extend(extra_msgs.iter().filter_map(|p| check::extra_msg(cx, p)));
    let (apis, msgs) = check::check_duplicates(cx, span, apis, msgs);
    ServiceModel {
        name: name.to_owned(),
        display_root: folder.display_root.to_owned(),
        root: folder.root.to_path_buf(),
        module,
        apis,
        msgs,
    }
}

/// Reads the protocol folder `root` (shown as `display_root` in messages) as the service
/// `name`, plus the hand-declared `extra_apis` / `extra_msgs` (paths of their request and
/// message types), and applies every rule of the service macro. Returns the model of whatever
/// is valid (the macro still generates glue for it) and every problem found, each message
/// with its `file:line:column` (none: the folder is a valid service).
///
/// ```no_run
/// use std::path::Path;
/// let (model, problems) =
///     rpc_codegen::check_folder(Path::new("protocols/src/chat"), "src/chat", "chat", &[], &[]);
/// if problems.0.is_empty() {
///     let code = rpc_codegen::pretty(&rpc_codegen::generate(&model, &syn::parse_quote!(::rpc_runtime)));
///     println!("{code}");
/// } else {
///     eprintln!("{problems}");
/// }
/// ```
pub fn check_folder(
    root: &Path,
    display_root: &str,
    name: &str,
    extra_apis: &[syn::Path],
    extra_msgs: &[syn::Path],
) -> (ServiceModel, Diagnostics) {
    let cx = Ctxt::new();
    let model = load_service(
        &cx,
        Span::call_site(),
        name,
        root,
        display_root,
        extra_apis,
        extra_msgs,
    );
    let messages = cx.messages();
    let _ = cx.check();
    let problems = messages
        .into_iter()
        .map(|message| Diagnostic {
            origin: None,
            message,
        })
        .collect();
    (model, Diagnostics(problems))
}

/// `#[service(..)] pub mod x {}`: the module with its protocol files, glue and errors.
pub fn expand_service(args: TokenStream, item: TokenStream, inv: &Invocation) -> TokenStream {
    let mut module: syn::ItemMod = match syn::parse2(item.clone()) {
        Ok(m) => m,
        Err(e) => {
            let err = syn::Error::new(
                e.span(),
                "`#[service(..)]` goes on an inline module: `pub mod chat {}`",
            )
            .to_compile_error();
            return quote!(#err #item);
        }
    };
    let cx = Ctxt::new();
    let args = ServiceArgs::from_tokens(&cx, args, Span::call_site());
    let items = match module.content.take() {
        Some((_, items)) => items,
        None => {
            cx.error_spanned_by(
                &module,
                format!(
                    "write `mod {} {{}}`: the macro fills the module in",
                    module.ident
                ),
            );
            Vec::new()
        }
    };
    let name = syn::ext::IdentExt::unraw(&module.ident).to_string();
    let krate = args.krate.clone().unwrap_or_else(default_crate);
    let mut imported = TokenStream::new();
    // TSRPC's proto with its ids, for `service_proto()`: the lock of a protocol folder, or the
    // proto an imported service comes from.
    let mut tsrpc = MacroProto::Unavailable;
    let model = match (&args.protocols, &args.tsrpc_proto) {
        (None, Some(lit)) => {
            let display = lit.value();
            let path = match inv.package_root() {
                Some(base) => base.join(&display),
                None => PathBuf::from(&display),
            };
            let skip = args.skip_unsupported.as_ref().is_some_and(|b| b.value);
            let loaded = crate::import::service::load(
                &cx,
                lit.span(),
                &name,
                &path,
                &display,
                skip,
                &krate,
                &args.extra_apis,
                &args.extra_msgs,
            );
            imported = loaded.extra;
            if let Some(proto) = loaded.proto {
                tsrpc = MacroProto::Imported(proto);
            }
            loaded.model
        }
        (Some(lit), _) => {
            let display = lit.value().trim_end_matches('/').to_owned();
            let root = match inv.package_root() {
                Some(base) => base.join(&display),
                None => PathBuf::from(&display),
            };
            let model = load_service(
                &cx,
                lit.span(),
                &name,
                &root,
                &display,
                &args.extra_apis,
                &args.extra_msgs,
            );
            // The lock is checked only against a folder without mistakes.
            if cx.messages().is_empty() {
                match lock::for_macro(&model) {
                    Ok(proto) => tsrpc = proto,
                    Err(message) => cx.error_at(lit.span(), message),
                }
            }
            model
        }
        (None, None) => ServiceModel {
            name: name.clone(),
            display_root: String::new(),
            root: PathBuf::new(),
            module: ModuleDef::default(),
            apis: Vec::new(),
            msgs: Vec::new(),
        },
    };
    let warnings = args
        .protocols
        .as_ref()
        .map(|lit| crate::render::warn::service_warnings(&model, inv, lit.span()));
    let generated = generate_with(&model, &krate, &tsrpc);
    if std::env::var_os(DEBUG_VAR).is_some_and(|v| !v.is_empty()) {
        write_debug_expansion(&name, &generated, inv);
    }
    let errors = to_compile_errors(cx.check().err());
    let syn::ItemMod {
        attrs,
        vis,
        unsafety,
        mod_token,
        ident,
        ..
    } = module;
    quote! {
        #errors
        #(#attrs)*
        #vis #unsafety #mod_token #ident {
            #(#items)*
            #generated
            #imported
            #warnings
            // Reading the variable here makes rustc list it in the crate's dep-info, so cargo
            // rebuilds the crate when it is set or unset (see `write_debug_expansion`).
            const _: ::core::option::Option<&'static str> = ::core::option_env!(#DEBUG_VAR);
        }
    }
}

/// The variable that asks for the expansion: set and not empty.
const DEBUG_VAR: &str = "RPC_CODEGEN_DEBUG";

/// `RPC_CODEGEN_DEBUG=1`: writes the glue generated for the service `name` to a file under the
/// target dir and prints one line with its path (not the code itself: cargo keeps a crate's
/// compiler output and replays it on every build that finds the crate fresh). The expansion
/// reads the variable with `option_env!`, so cargo tracks it: setting it rebuilds the crate
/// and writes the file, unsetting it rebuilds the crate once more and the line is gone.
fn write_debug_expansion(name: &str, generated: &TokenStream, inv: &Invocation) {
    let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "unknown".to_owned());
    let dir = debug_dir(inv).join(package);
    let path = dir.join(format!("{name}.rs"));
    let code = format!(
        "// rpc-codegen: the glue generated for service `{name}` (RPC_CODEGEN_DEBUG)\n{}",
        pretty(generated)
    );
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, code)) {
        Ok(()) => eprintln!(
            "rpc-codegen: service `{name}` expanded into {}",
            path.display()
        ),
        Err(e) => eprintln!(
            "rpc-codegen: service `{name}`: could not write {}: {e}",
            path.display()
        ),
    }
}

/// Where [`write_debug_expansion`] writes: `<target>/<profile>/rpc-codegen-debug` when the crate has
/// a build script (as it should, for `rpc_codegen::watch`; found from its `OUT_DIR`), else
/// `$CARGO_TARGET_DIR/rpc-codegen-debug`, else `target/rpc-codegen-debug` in the workspace root (the
/// highest folder above the package with a `Cargo.toml` declaring `[workspace]`).
fn debug_dir(inv: &Invocation) -> PathBuf {
    let cwd = inv.cwd.clone().unwrap_or_default();
    if let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) {
        // OUT_DIR is <target>/<profile>/build/<package>-<hash>/out.
        if let Some(build) = out
            .ancestors()
            .find(|d| d.file_name() == Some("build".as_ref()))
        {
            if let Some(profile) = build.parent() {
                return cwd.join(profile).join("rpc-codegen-debug");
            }
        }
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        return cwd.join(target).join("rpc-codegen-debug");
    }
    let package = inv.package_root().unwrap_or_else(|| cwd.clone());
    let root = package
        .ancestors()
        .filter(|d| {
            std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
        })
        .last()
        .unwrap_or(&package);
    cwd.join(root).join("target").join("rpc-codegen-debug")
}

/// The field rules of a derive: `Option` without `skip_serializing_if`, and the map keys of
/// `crate::check_wire`.
fn option_field_checks(cx: &Ctxt, input: &syn::DeriveInput) {
    let fields: Vec<&syn::Field> = match &input.data {
        syn::Data::Struct(s) => s.fields.iter().collect(),
        syn::Data::Enum(e) => e.variants.iter().flat_map(|v| v.fields.iter()).collect(),
        syn::Data::Union(_) => Vec::new(),
    };
    for f in fields {
        if is_option(&f.ty) && !has_skip_serializing(&f.attrs) {
            cx.error_spanned_by(
                f,
                "an `Option` field needs `#[serde(skip_serializing_if = \"Option::is_none\")]`: \
                 TSRPC omits an absent field, serde would write `null`",
            );
        }
        crate::check_wire::derive_field_rules(cx, f);
    }
}

/// `#[derive(Message)] #[rpc(name = "..")]` on a hand-declared type.
pub fn expand_derive_message(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let cx = Ctxt::new();
    let attr = RpcAttr::from_attrs(&cx, &input.attrs, MESSAGE_KEYS);
    option_field_checks(&cx, &input);
    let ident = &input.ident;
    let name = attr.name.map_or_else(
        || {
            let s = ident.to_string();
            s.strip_prefix("Msg")
                .filter(|r| !r.is_empty())
                .unwrap_or(&s)
                .to_owned()
        },
        |l| l.value(),
    );
    let krate = attr.krate.unwrap_or_else(default_crate);
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let errors = to_compile_errors(cx.check().err());
    quote! {
        #errors
        impl #impl_g #krate::__codegen::Message for #ident #ty_g #where_c {
            const NAME: &'static str = #name;
        }
    }
}

/// `#[derive(Api)] #[rpc(name = "..", res = ResX)]` on a hand-declared request type.
pub fn expand_derive_api(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let cx = Ctxt::new();
    let attr = RpcAttr::from_attrs(&cx, &input.attrs, API_KEYS);
    option_field_checks(&cx, &input);
    let ident = &input.ident;
    let s = ident.to_string();
    let base = s.strip_prefix("Req").filter(|r| !r.is_empty());
    let name = attr
        .name
        .map_or_else(|| base.unwrap_or(&s).to_owned(), |l| l.value());
    let res = match (attr.res, base) {
        (Some(res), _) => Some(quote!(#res)),
        (None, Some(base)) => {
            let res = syn::Ident::new(&format!("Res{base}"), ident.span());
            Some(quote!(#res))
        }
        (None, None) => {
            cx.error_spanned_by(
                ident,
                "name the response type: `#[rpc(res = ResXxx)]` (the default, `Res` + the name after `Req`, needs a `ReqXxx` type name)",
            );
            None
        }
    };
    let krate = attr.krate.unwrap_or_else(default_crate);
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let errors = to_compile_errors(cx.check().err());
    let Some(res) = res else { return errors };
    quote! {
        #errors
        impl #impl_g #krate::__codegen::Api for #ident #ty_g #where_c {
            const NAME: &'static str = #name;
            type Res = #res;
        }
    }
}
