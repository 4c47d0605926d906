//! The service macro's warnings: where the build would silently ignore something. A proc macro
//! cannot emit a warning on stable Rust, so each one is a `#[deprecated(note = "..")]` unit
//! struct that the expansion uses at the `protocols = ".."` literal: rustc prints
//! `warning: use of deprecated unit struct `svc::_::EmptyProtocolFolder`: <note>` pointing at
//! the attribute, once per build of the crate, and `-D warnings` turns it into an error.
//! `#[allow(deprecated)]` on the module silences them.
//!
//! - An empty protocol folder, or an empty sub-folder (no `.rs` file at any depth): nothing is
//!   generated for it, which is rarely what was meant.
//! - A protocol folder the build script does not [`crate::watch`]: cargo tracks the protocol
//!   files the expansion reads (`include_str!`), not the folder, so a file added or removed
//!   later is ignored until something else rebuilds the crate. `watch` lists the folders it
//!   watches in the variable [`WATCH_VAR`] of the crate's compilation; the expansion reads it
//!   with `option_env!`, so cargo rebuilds the crate when it changes.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::expand::Invocation;
use crate::model::{ModuleDef, ServiceModel};

/// The variable `watch` sets (`cargo:rustc-env`) for the package's compilation: the absolute
/// paths of the watched folders, joined as `PATH` is.
pub(crate) const WATCH_VAR: &str = "RPC_CODEGEN_WATCH";

/// Something the build ignores, in a protocol folder shown as `folder` (as written in the
/// attribute, then `/sub/folder`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Warning {
    /// No `.rs` file in `folder`, at any depth. `root`: the protocol folder itself.
    Empty { folder: String, root: bool },
    /// The build script does not watch `folder`; `build_script`: the package has one.
    Unwatched { folder: String, build_script: bool },
}

impl Warning {
    /// The deprecated struct's name: the first words of the warning line.
    fn item(&self) -> &'static str {
        match self {
            Warning::Empty { .. } => "EmptyProtocolFolder",
            Warning::Unwatched { .. } => "UnwatchedProtocolFolder",
        }
    }

    /// The text after the colon.
    pub(crate) fn note(&self) -> String {
        match self {
            Warning::Empty { folder, root: true } => format!(
                "protocol folder `{folder}` is empty: the service has no APIs and no messages \
                 (add a `ptl_*.rs` or `msg_*.rs` file)"
            ),
            Warning::Empty {
                folder,
                root: false,
            } => format!(
                "protocol folder `{folder}` is empty: nothing is generated for it (add a \
                 `ptl_*.rs` or `msg_*.rs` file, or remove the folder)"
            ),
            Warning::Unwatched {
                folder,
                build_script: true,
            } => format!(
                "protocol folder `{folder}` is not watched by build.rs, so a protocol file \
                 added or removed later is ignored: add `rpc_codegen::watch(\"{folder}\");` to \
                 `main` in build.rs"
            ),
            Warning::Unwatched {
                folder,
                build_script: false,
            } => format!(
                "protocol folder `{folder}` is not watched by build.rs, so a protocol file \
                 added or removed later is ignored: add a build.rs with `fn main() {{ \
                 rpc_codegen::watch(\"{folder}\"); }}` and `rpc-codegen` to \
                 [build-dependencies]"
            ),
        }
    }
}

/// What the macro knows of the build: the compiled package's folder, the folders its build
/// script watches, and whether it has a build script.
#[derive(Debug, Clone, Default)]
pub(crate) struct Build {
    /// `CARGO_MANIFEST_DIR` (`None`: not built by cargo).
    pub(crate) manifest_dir: Option<PathBuf>,
    /// [`WATCH_VAR`] (`None`: no folder watched).
    pub(crate) watched: Option<OsString>,
    /// `OUT_DIR` is set: cargo sets it only for a package with a build script.
    pub(crate) build_script: bool,
}

impl Build {
    /// The build the macro runs in (the compiler's environment, which cargo sets).
    pub(crate) fn from_env(inv: &Invocation) -> Build {
        Build {
            manifest_dir: inv.manifest_dir.clone(),
            watched: std::env::var_os(WATCH_VAR),
            build_script: std::env::var_os("OUT_DIR").is_some(),
        }
    }
}

/// The folders of `module` (shown as `display`) that hold no `.rs` file at any depth: the
/// highest one of each empty branch, so a warning is given once per branch.
pub(crate) fn empty_folders(module: &ModuleDef, display: &str) -> Vec<String> {
    fn is_empty(m: &ModuleDef) -> bool {
        m.files.is_empty() && m.children.iter().all(is_empty)
    }
    if is_empty(module) {
        return vec![display.to_owned()];
    }
    module
        .children
        .iter()
        .flat_map(|c| empty_folders(c, &format!("{display}/{}", c.name)))
        .collect()
}

/// `path` made absolute (against `base`) with `.` and `..` resolved, through symlinks when it
/// exists.
fn absolute(base: &Path, path: &Path) -> PathBuf {
    let joined = base.join(path);
    if let Ok(real) = joined.canonicalize() {
        return real;
    }
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// Every warning for the service `model`, read from a folder that exists, compiled in `build`.
/// The unwatched folder is only reported when the invoking file belongs to the package being
/// compiled (`CARGO_MANIFEST_DIR`): only that package's build script can watch it. Under
/// trybuild, for one, the test crate is generated elsewhere and has no build script to fix.
pub(crate) fn warnings(model: &ServiceModel, inv: &Invocation, build: &Build) -> Vec<Warning> {
    if !model.root.is_dir() {
        return Vec::new();
    }
    let display = &model.display_root;
    let mut out: Vec<Warning> = empty_folders(&model.module, display)
        .into_iter()
        .map(|folder| Warning::Empty {
            root: &folder == display,
            folder,
        })
        .collect();
    let here = Path::new("");
    let compiled = match (&build.manifest_dir, inv.package_root()) {
        (Some(m), Some(p)) => absolute(here, m) == absolute(here, &p),
        _ => false,
    };
    if compiled {
        let manifest = build.manifest_dir.as_deref().unwrap_or(here);
        let root = absolute(manifest, &model.root);
        let watched = build.watched.as_ref().is_some_and(|w| {
            std::env::split_paths(w).any(|d| root.starts_with(absolute(manifest, &d)))
        });
        if !watched {
            out.push(Warning::Unwatched {
                folder: display.clone(),
                build_script: build.build_script,
            });
        }
    }
    out
}

/// The tokens of `warnings`, each used at `span`, plus the `option_env!` that makes cargo
/// track [`WATCH_VAR`] (so adding a `watch` rebuilds the crate and the warning goes).
pub(crate) fn render(warnings: &[Warning], span: Span) -> TokenStream {
    let items = warnings.iter().map(|w| {
        let item = syn::Ident::new(w.item(), span);
        let note = w.note();
        quote! {
            const _: () = {
                #[deprecated(note = #note)]
                struct #item;
                let _ = #item;
            };
        }
    });
    quote! {
        #(#items)*
        const _: ::core::option::Option<&'static str> = ::core::option_env!(#WATCH_VAR);
    }
}

/// The warnings of the service `model` as tokens, located at `span` (the `protocols` literal).
pub(crate) fn service_warnings(model: &ServiceModel, inv: &Invocation, span: Span) -> TokenStream {
    render(&warnings(model, inv, &Build::from_env(inv)), span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FileDef, FileKind};

    fn folder(name: &str, files: &[&str], children: Vec<ModuleDef>) -> ModuleDef {
        ModuleDef {
            name: name.to_owned(),
            files: files
                .iter()
                .map(|f| FileDef {
                    stem: (*f).to_owned(),
                    path: PathBuf::from(format!("{f}.rs")),
                    display: format!("{f}.rs"),
                    kind: FileKind::Other,
                    items: None,
                    names: Vec::new(),
                    inline: None,
                    conf: None,
                })
                .collect(),
            children,
        }
    }

    #[test]
    fn empty_folders_are_reported_once_per_branch() {
        let tree = folder(
            "",
            &["ptl_add"],
            vec![
                folder("chat", &["msg_hi"], vec![folder("empty", &[], vec![])]),
                folder("game", &[], vec![folder("lobby", &[], vec![])]),
                folder("room", &[], vec![]),
                folder("shop", &[], vec![folder("deep", &["msg_buy"], vec![])]),
            ],
        );
        assert_eq!(
            empty_folders(&tree, "src/svc"),
            ["src/svc/chat/empty", "src/svc/game", "src/svc/room"]
        );
        let bare = folder("", &[], vec![folder("room", &[], vec![])]);
        assert_eq!(empty_folders(&bare, "src/svc"), ["src/svc"]);
    }

    /// A package in a temporary folder with `src/svc/ptl_add.rs` and an empty `src/svc/room`.
    fn package() -> (PathBuf, ServiceModel, Invocation) {
        let dir = std::env::temp_dir().join(format!("rpc-warn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/svc/room")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "").unwrap();
        std::fs::write(dir.join("src/main.rs"), "").unwrap();
        let model = ServiceModel {
            name: "svc".into(),
            display_root: "src/svc".into(),
            root: dir.join("src/svc"),
            module: folder("", &["ptl_add"], vec![folder("room", &[], vec![])]),
            apis: Vec::new(),
            msgs: Vec::new(),
        };
        let inv = Invocation {
            file: Some(dir.join("src/main.rs")),
            cwd: None,
            manifest_dir: Some(dir.clone()),
        };
        (dir, model, inv)
    }

    #[test]
    fn a_folder_is_watched_by_itself_or_a_parent_and_only_the_compiled_package_is_told() {
        let (dir, model, inv) = package();
        let empty = Warning::Empty {
            folder: "src/svc/room".into(),
            root: false,
        };
        let unwatched = |build_script| Warning::Unwatched {
            folder: "src/svc".into(),
            build_script,
        };
        let build = |watched: Option<Vec<PathBuf>>, build_script| Build {
            manifest_dir: Some(dir.clone()),
            watched: watched.map(|w| std::env::join_paths(w).unwrap()),
            build_script,
        };
        assert_eq!(
            warnings(&model, &inv, &build(None, false)),
            [empty.clone(), unwatched(false)]
        );
        assert_eq!(
            warnings(
                &model,
                &inv,
                &build(Some(vec![dir.join("src/other")]), true)
            ),
            [empty.clone(), unwatched(true)]
        );
        for watched in [
            dir.join("src/svc"),
            dir.join("src"),
            dir.join("src/./svc/../svc"),
        ] {
            assert_eq!(
                warnings(
                    &model,
                    &inv,
                    &build(Some(vec![dir.join("x"), watched]), true)
                ),
                std::slice::from_ref(&empty)
            );
        }
        // Compiled as another package (trybuild's case): no build script of ours to fix.
        let elsewhere = Build {
            manifest_dir: Some(dir.join("src")),
            ..build(None, false)
        };
        assert_eq!(warnings(&model, &inv, &elsewhere), [empty]);
        // A folder that does not exist has its error, and no warning.
        let missing = ServiceModel {
            root: dir.join("src/nope"),
            ..model
        };
        assert_eq!(warnings(&missing, &inv, &build(None, false)), []);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn each_warning_is_a_deprecated_item_used_once() {
        let w = [
            Warning::Empty {
                folder: "src/svc".into(),
                root: true,
            },
            Warning::Unwatched {
                folder: "src/svc".into(),
                build_script: false,
            },
        ];
        let code = render(&w, Span::call_site()).to_string();
        assert_eq!(code.matches("deprecated").count(), 2, "{code}");
        assert_eq!(
            code.matches("let _ = EmptyProtocolFolder").count(),
            1,
            "{code}"
        );
        assert_eq!(
            code.matches("let _ = UnwatchedProtocolFolder").count(),
            1,
            "{code}"
        );
        assert!(
            code.contains("option_env ! (\"RPC_CODEGEN_WATCH\")"),
            "{code}"
        );
        assert!(
            w[1].note()
                .contains(r#"`fn main() { rpc_codegen::watch("src/svc"); }`"#),
            "{}",
            w[1].note()
        );
        assert!(!render(&[], Span::call_site())
            .to_string()
            .contains("deprecated"));
    }
}
