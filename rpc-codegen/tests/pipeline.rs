//! One check pipeline: for every compile-fail case of the workspace (`tests/ui/fail/*.rs`), the
//! service macro, driven as rustc drives it, and `rpc-codegen check` on the same folder report
//! the same diagnostics, word for word and in the same order.
//!
//! The macro side is `expand_service` on the attribute and module of the case file, with the
//! case file as the invoking file; its messages are the `compile_error!`s of the expansion. The
//! CLI side is the built binary, run from the package that holds the case (`tests/`), on the
//! attribute's `protocols` folder, with `--name` set to the module's name as the macro does.
//! What the CLI cannot see is left out, and checked to be only that: messages about the
//! attribute's other keys (`extra_apis`, `extra_msgs`, `tsrpc_proto`, unknown keys) and the
//! TypeScript export's problems (printed after a note, once the macro's rules pass). A case
//! that imports a TSRPC proto (`tsrpc_proto` without `protocols`) has no folder to compare.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use rpc_codegen::{expand_service, Invocation};
use support::{parse, texts};

/// The workspace's `tests` package: the root of the fail cases' protocol folders.
fn tests_package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests")
}

/// One `#[..::service(..)] mod x {}` of a fail case.
struct Invoked {
    /// The attribute's arguments.
    args: TokenStream,
    /// The module without the attribute.
    module: syn::ItemMod,
    /// `protocols = ".."`.
    protocols: String,
    /// Text that every message about the other keys contains: the extras' paths, and
    /// "unknown key" when a key is unknown.
    other_keys: Vec<String>,
}

fn invocations(file: &syn::File) -> Vec<Invoked> {
    let mut out = Vec::new();
    for item in &file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some(i) = module.attrs.iter().position(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "service")
        }) else {
            continue;
        };
        let mut module = module.clone();
        let attr = module.attrs.remove(i);
        let syn::Meta::List(list) = &attr.meta else {
            panic!("a service attribute without arguments")
        };
        let (protocols, other_keys) = keys(list.tokens.clone());
        // An imported TSRPC proto (`tsrpc_proto = ".."` alone) is no folder for the CLI.
        let Some(protocols) = protocols else {
            continue;
        };
        out.push(Invoked {
            args: list.tokens.clone(),
            module,
            protocols,
            other_keys,
        });
    }
    out
}

/// `protocols`'s value, and the texts messages about the other keys contain.
fn keys(args: TokenStream) -> (Option<String>, Vec<String>) {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    let mut protocols = None;
    let mut other = Vec::new();
    for part in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        let Some(TokenTree::Ident(key)) = part.first() else {
            continue;
        };
        match (key.to_string().as_str(), part.get(2)) {
            ("protocols", Some(TokenTree::Literal(l))) => {
                let lit: syn::LitStr = syn::parse_str(&l.to_string()).unwrap();
                protocols = Some(lit.value());
            }
            ("crate", _) => {}
            // Their messages name `tsrpc_proto` (both keys at once, the option without it).
            ("tsrpc_proto" | "skip_unsupported_optional_fields", _) => {
                other.push("tsrpc_proto".to_owned())
            }
            ("extra_apis" | "extra_msgs", Some(TokenTree::Group(g))) => {
                let paths = g.stream().into_iter().collect::<Vec<_>>();
                for path in paths.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                {
                    let text: String = path
                        .iter()
                        .map(|t| t.to_token_stream().to_string())
                        .collect();
                    other.push(text.replace(' ', ""));
                }
            }
            _ => other.push("unknown key".to_owned()),
        }
    }
    (protocols, other)
}

/// The CLI's verdict on a folder.
enum Cli {
    /// The macro's rules pass (the export may still fail).
    Accepted,
    /// The macro's rules fail: these messages.
    Problems(Vec<String>),
    /// Exit 2: not a folder.
    NotAFolder(String),
}

fn cli_check(folder: &str, name: &str) -> Cli {
    let out = Command::new(env!("CARGO_BIN_EXE_rpc-codegen"))
        .args(["check", "--name", name, folder])
        .current_dir(tests_package())
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => Cli::Accepted,
        Some(1) if stderr.starts_with("note: the service macro accepts") => Cli::Accepted,
        Some(1) => {
            let body = stderr
                .trim_end()
                .rsplit_once('\n')
                .map_or("", |(body, _count)| body);
            let body = body.strip_prefix("error: ").expect("`error: ` first");
            Cli::Problems(body.split("\nerror: ").map(str::to_owned).collect())
        }
        Some(2) => Cli::NotAFolder(stderr),
        other => panic!("exit {other:?}: {stderr}"),
    }
}

/// `a` is `b` with some items left out, in order.
fn is_subsequence(a: &[String], b: &[String]) -> bool {
    let mut rest = b.iter();
    a.iter().all(|x| rest.any(|y| y == x))
}

#[test]
fn the_macro_and_the_cli_report_the_same_diagnostics() {
    let fail = tests_package().join("ui/fail");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&fail)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    cases.sort();
    let (mut compared, mut with_problems) = (0, 0);
    for case in &cases {
        let text = std::fs::read_to_string(case).unwrap();
        let file = syn::parse_file(&text).unwrap();
        for inv in invocations(&file) {
            let what = format!("{}: `{}`", case.display(), inv.protocols);
            let invocation = Invocation {
                file: Some(case.clone()),
                cwd: None,
                manifest_dir: None,
            };
            let expansion =
                expand_service(inv.args.clone(), inv.module.to_token_stream(), &invocation);
            let macro_says = texts(&parse(expansion).1);
            let name = syn::ext::IdentExt::unraw(&inv.module.ident).to_string();
            let folder = inv.protocols.trim_end_matches('/');
            let cli_says = match cli_check(folder, &name) {
                Cli::Accepted => Vec::new(),
                Cli::Problems(p) => p,
                Cli::NotAFolder(err) => {
                    // An I/O problem, not a diagnostic: the CLI exits 2, the macro says why.
                    assert!(err.contains("is not a folder"), "{what}: {err}");
                    assert_eq!(macro_says.len(), 1, "{what}: {macro_says:#?}");
                    assert!(
                        macro_says[0]
                            .starts_with(&format!("cannot read protocol folder `{folder}`")),
                        "{what}: {macro_says:#?}"
                    );
                    compared += 1;
                    continue;
                }
            };
            if inv.other_keys.is_empty() {
                assert_eq!(macro_says, cli_says, "{what}");
            } else {
                assert!(
                    is_subsequence(&cli_says, &macro_says),
                    "{what}: the CLI says {cli_says:#?}\nthe macro says {macro_says:#?}"
                );
                for extra in macro_says.iter().filter(|m| !cli_says.contains(m)) {
                    assert!(
                        inv.other_keys.iter().any(|k| extra.contains(k.as_str())),
                        "{what}: the macro alone says {extra:?}, which is not about {:?}",
                        inv.other_keys
                    );
                }
            }
            compared += 1;
            with_problems += usize::from(!cli_says.is_empty());
        }
    }
    eprintln!("{compared} invocations compared, {with_problems} with folder diagnostics");
    // Not vacuous: the fail cases hold many service invocations, most with folder mistakes.
    assert!(compared >= 15, "{compared} invocations compared");
    assert!(with_problems >= 8, "{with_problems} with problems");
}
