//! The Rust folder made from small protos and from the kitchen sink.

use super::{import, ImportOptions};
use crate::import::proto::ServiceProto;

const CORPUS_TS: &str = include_str!("../../../../tests/kitchen-sink/protocols/serviceProto.ts");

fn kitchen_sink(skip: bool) -> Result<super::ImportedFolder, Vec<super::ImportError>> {
    let proto = ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap();
    let opts = ImportOptions {
        skip_unsupported_optional_fields: skip,
        ..ImportOptions::default()
    };
    import(&proto, &opts)
}

fn file<'a>(folder: &'a super::ImportedFolder, path: &str) -> &'a str {
    folder
        .files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no {path} in {:?}",
                folder.files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
}

/// A proto of one message `Msg<name>` with these properties (JSON), plus more types.
fn proto_with(props: &str, types: &str) -> ServiceProto {
    let text = format!(
        r#"{{"services":[{{"id":0,"name":"T","type":"msg"}}],"types":{{"MsgT/MsgT":{{"type":"Interface","properties":[{props}]}}{types}}}}}"#
    );
    ServiceProto::parse(&text, "p.json").unwrap()
}

fn errors(proto: &ServiceProto, skip: bool) -> Vec<String> {
    let opts = ImportOptions {
        skip_unsupported_optional_fields: skip,
        ..ImportOptions::default()
    };
    match import(proto, &opts) {
        Ok(f) => panic!("imported: {:?}", f.files),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn kitchen_sink_layout_and_names() {
    let folder = kitchen_sink(true).unwrap();
    let paths: Vec<&str> = folder.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "base.rs",
            "msg_chat.rs",
            "msg_server_notice.rs",
            "ptl_get_profile.rs",
            "ptl_login.rs",
            "ptl_update_profile.rs",
            "room/msg_player_move.rs",
            "room/msg_room_state.rs",
            "room/ptl_create_room.rs",
            "room/ptl_join_room.rs",
            "room/room_types.rs",
            "shop/msg_price_changed.rs",
            "shop/ptl_buy.rs",
            "shop/ptl_list_items.rs",
            "shop/shop_types.rs",
            "user_types.rs",
        ]
    );
    let names: Vec<(&str, &str)> = folder
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.rust_name.as_str()))
        .filter(|(a, b)| a != b)
        .collect();
    assert!(names.is_empty(), "{names:?}");
    // Own fields first, then the parents' in `extends` order.
    let login = file(&folder, "ptl_login.rs");
    let order: Vec<usize> = [
        "pub account",
        "pub remember_me",
        "pub sso",
        "pub client_build",
    ]
    .iter()
    .map(|f| login.find(f).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{login}");
    // A literal tag, a union with null, an optional union with null.
    let notice = file(&folder, "msg_server_notice.rs");
    assert!(notice.contains("pub kind: ServerNoticeKind,"), "{notice}");
    assert!(
        notice.contains("pub sticky: rt::LitBool<false>,"),
        "{notice}"
    );
    assert!(
        notice.contains("#[serde(default)]\n    pub retracted_by: (),"),
        "{notice}"
    );
    assert!(file(&folder, "msg_chat.rs").contains("pub reply_to: rt::Nullable<u64>,"));
    assert!(file(&folder, "user_types.rs").contains("pub bio: Option<Option<String>>,"));
    // Index signatures: a map, and a flattened map next to properties.
    let shop = file(&folder, "shop/shop_types.rs");
    assert!(
        shop.contains("#[serde(flatten)]\n    pub extra: rt::JsMap<u64>,"),
        "{shop}"
    );
    // The recursive type holds itself in a Vec: no Box needed.
    assert!(shop.contains("pub children: Vec<CategoryNode>,"), "{shop}");
    // `T['k']` reuses the type the property has where it is declared.
    let create = file(&folder, "room/ptl_create_room.rs");
    assert!(create.contains("pub map: super::RoomInfoMap,"), "{create}");
    // Types from another folder, by their folder's path.
    assert!(file(&folder, "room/room_types.rs").contains("Vec<super::super::PublicProfile>"));
}

#[test]
fn kitchen_sink_refuses_bigint_without_the_option() {
    let errs = kitchen_sink(false).unwrap_err();
    let texts: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(errs.iter().all(|e| e.unsupported), "{texts:?}");
    assert!(
        texts[0].starts_with("shop/ShopTypes/OnChainBalance.raw: `bigint` cannot be imported"),
        "{texts:?}"
    );
    let folder = kitchen_sink(true).unwrap();
    assert_eq!(folder.skipped.len(), 3, "{:?}", folder.skipped);
    assert!(folder.skipped[2].starts_with("shop/ShopTypes/OnChainBalance.unsigned: `biguint64`"));
}

const ODDITIES: &str = include_str!("../../../../tests/import-fixtures/oddities.json");

fn oddities() -> super::ImportedFolder {
    let proto = ServiceProto::parse(ODDITIES, "oddities.json").unwrap();
    import(&proto, &ImportOptions::default()).unwrap()
}

#[test]
fn oddities_dump() {
    let folder = oddities();
    for (path, text) in &folder.files {
        println!("===== {path}\n{text}");
    }
    println!("{:#?}", folder.services);
}

#[test]
fn oddities_names_folders_and_recursion() {
    let folder = oddities();
    let svc = &folder.services[0];
    assert_eq!(
        (svc.id, svc.name.as_str(), svc.rust_name.as_str()),
        (3, "my-room/GetHTTPData", "my_room/GetHttpData")
    );
    let ptl = file(&folder, "my_room/ptl_get_http_data.rs");
    assert!(ptl.contains("pub struct ReqGetHttpData {"), "{ptl}");
    assert!(
        ptl.contains("pub user: super::super::parent::models::User,"),
        "{ptl}"
    );
    assert!(ptl.contains("pub oid: rt::ObjectId,"), "{ptl}");
    assert!(
        ptl.contains("#[serde(rename = \"a-b\")]\n    pub a_b: String,"),
        "{ptl}"
    );
    assert!(ptl.contains("pub r#type: rt::LitInt<{ -3 }>,"), "{ptl}");
    // A helper named like a request keeps its name (the folder check lets helpers through).
    assert!(ptl.contains("pub struct ReqExtra {"), "{ptl}");
    // Recursion: a Box where nothing else breaks the cycle, a newtype for a recursive alias.
    assert!(ptl.contains("pub next: Option<Box<Node>>,"), "{ptl}");
    assert!(ptl.contains("pub struct Tree(pub Vec<Tree>);"), "{ptl}");
    assert!(file(&folder, "parent/models/user.rs").contains("pub best: Option<Box<User>>,"));
    // Several optional tuple elements: a hand-written Serialize leaves the trailing ones out.
    assert!(
        ptl.contains("impl Serialize for GetHttpDataPair {"),
        "{ptl}"
    );
    // A name the service module uses is not taken.
    let login = file(&folder, "ptl_login.rs");
    assert!(login.contains("pub client: Client2,"), "{login}");
    // Named `T | null` and `T | undefined`: aliases of T (Nullable for the first), the
    // undefined made an optional field where used; no `Option` hides behind an alias.
    assert!(
        login.contains("pub type MaybeClient = rt::Nullable<Client2>;"),
        "{login}"
    );
    assert!(
        login.contains("#[serde(default)]\n    pub maybe: MaybeClient,"),
        "{login}"
    );
    assert!(login.contains("pub type LaterClient = Client2;"), "{login}");
    assert!(login.contains("pub later: Option<LaterClient>,"), "{login}");
}

#[test]
fn ids_are_kept() {
    let proto = ServiceProto::parse(ODDITIES, "oddities.json").unwrap();
    let opts = ImportOptions::default();
    let items = super::map::Gen::new(&proto, &opts).items().unwrap();
    let find = |name: &str| {
        items
            .iter()
            .find(|i| i.name() == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let super::Item::Struct { fields, .. } = find("ReqGetHttpData") else {
        panic!()
    };
    let ids: Vec<Option<u32>> = fields.iter().map(|f| f.ids.id).collect();
    assert_eq!(&ids[..5], [Some(0), Some(1), Some(2), Some(4), Some(5)]);
    let super::Item::Untagged { ids, .. } = find("GetHttpDataEither") else {
        panic!()
    };
    assert_eq!(ids, &[2, 0, 1]);
    let super::Item::NumEnum { ids, .. } = find("Ratio") else {
        panic!()
    };
    assert_eq!(ids, &[0, 2]);

    let proto = ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap();
    let opts = ImportOptions {
        skip_unsupported_optional_fields: true,
        ..opts
    };
    let items = super::map::Gen::new(&proto, &opts).items().unwrap();
    let super::Item::Struct { fields, .. } =
        items.iter().find(|i| i.name() == "UserProfile").unwrap()
    else {
        panic!()
    };
    let id = fields.iter().find(|f| f.json == "id").unwrap();
    assert_eq!(id.ids.owner, "base/Identified");
    assert_eq!(id.ids.via, [crate::import::resolve::Step::Extends(0)]);
    let updated = fields.iter().find(|f| f.json == "updatedAt").unwrap();
    assert_eq!(
        (updated.ids.id, &updated.ids.via[..]),
        (Some(1), &[crate::import::resolve::Step::Extends(1)][..])
    );
}

#[test]
fn what_cannot_be_imported_is_refused_with_its_path() {
    for (props, types, expected) in [
        (
            r#"{"id":0,"name":"n","type":{"type":"Number","scalarType":"bigint64"}}"#,
            "",
            "MsgT/MsgT.n: `bigint64` cannot be imported",
        ),
        (
            r#"{"id":0,"name":"a","type":{"type":"Buffer","arrayType":"BigUint64Array"}}"#,
            "",
            "MsgT/MsgT.a: `BigUint64Array` cannot be imported",
        ),
        (
            r#"{"id":0,"name":"b","type":{"type":"Reference","target":"T/B"}}"#,
            r#","T/B":{"type":"Interface","extends":[{"id":0,"type":{"target":{"type":"Reference","target":"T/A"},"keys":["x"],"type":"Omit"}}]},"T/A":{"type":"Interface","properties":[{"id":0,"name":"x","type":{"type":"String"}}]}"#,
            "T/B: extends `Omit<..>`: TSBuffer's binary encoder writes nothing",
        ),
        (
            r#"{"id":0,"name":"c","type":{"type":"Reference","target":"?mylib/Money"}}"#,
            "",
            "MsgT/MsgT.c: the custom type `?mylib/Money` cannot be imported",
        ),
        (
            r#"{"id":0,"name":"i","type":{"type":"Intersection","members":[{"id":0,"type":{"type":"String"}},{"id":1,"type":{"type":"Interface"}}]}}"#,
            "",
            "MsgT/MsgT.i: an intersection with `string`",
        ),
    ] {
        let errs = errors(&proto_with(props, types), false);
        assert!(
            errs.iter().any(|e| e.starts_with(expected)),
            "{errs:?}\n  expected: {expected}"
        );
    }
    // Malformed protos: a reference to nothing, a service without its type.
    let errs = errors(
        &proto_with(
            r#"{"id":0,"name":"r","type":{"type":"Reference","target":"T/Gone"}}"#,
            "",
        ),
        true,
    );
    assert!(
        errs[0].contains("refers to `T/Gone`, which is not in the proto's types"),
        "{errs:?}"
    );
    let proto = ServiceProto::parse(r#"{"services":[{"id":0,"name":"X","type":"api"}],"types":{"PtlX/ReqX":{"type":"Interface"}}}"#, "p.json").unwrap();
    let errs = errors(&proto, true);
    assert!(
        errs[0].starts_with("PtlX/ResX: service `X` needs this type"),
        "{errs:?}"
    );
}

#[test]
fn the_option_leaves_out_optional_fields_only() {
    let big = r#"{"id":0,"name":"n","type":{"type":"Number","scalarType":"bigint"},"optional":true},{"id":1,"name":"m","type":{"type":"Number","scalarType":"bigint"}}"#;
    let errs = errors(&proto_with(big, ""), true);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].starts_with("MsgT/MsgT.m: `bigint`"), "{errs:?}");
    assert!(!errs[0].contains("leaves it out"), "{errs:?}");
    // Without the option, every field is reported; the optional one with the way out.
    let errs = errors(&proto_with(big, ""), false);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].starts_with("MsgT/MsgT.n: `bigint`"), "{errs:?}");
    assert!(
        errs[0].ends_with(
            "(`MsgT/MsgT.n` is optional: `skip_unsupported_optional_fields = true` leaves it out)"
        ),
        "{errs:?}"
    );
    assert!(errs[1].starts_with("MsgT/MsgT.m: `bigint`"), "{errs:?}");
    let only_optional = r#"{"id":0,"name":"n","type":{"type":"Number","scalarType":"bigint"},"optional":true},{"id":1,"name":"s","type":{"type":"String"}}"#;
    let opts = ImportOptions {
        skip_unsupported_optional_fields: true,
        ..ImportOptions::default()
    };
    let folder = import(&proto_with(only_optional, ""), &opts).unwrap();
    let text = file(&folder, "msg_t.rs");
    assert!(
        text.contains("pub s: String,") && !text.contains("pub n"),
        "{text}"
    );
    assert_eq!(folder.skipped.len(), 1);
}

#[test]
fn service_types_are_structs_or_enums_never_aliases() {
    let proto = ServiceProto::parse(
        r#"{"services":[{"id":0,"name":"A","type":"api"},{"id":1,"name":"B","type":"msg"}],"types":{
          "PtlA/ReqA":{"type":"Reference","target":"base/Shared"},
          "PtlA/ResA":{"type":"Interface","indexSignature":{"keyType":"String","type":{"type":"Number"}}},
          "MsgB/MsgB":{"type":"Reference","target":"base/Either"},
          "base/Shared":{"type":"Interface","properties":[{"id":0,"name":"x","type":{"type":"String"}}]},
          "base/Either":{"type":"Union","members":[{"id":0,"type":{"type":"Reference","target":"base/Shared"}},{"id":1,"type":{"type":"String"}}]}
        }}"#,
        "p.json",
    )
    .unwrap();
    let folder = import(&proto, &ImportOptions::default()).unwrap();
    let a = file(&folder, "ptl_a.rs");
    assert!(
        a.contains("pub struct ReqA {\n    pub x: String,\n}"),
        "{a}"
    );
    assert!(a.contains("pub struct ResA {"), "{a}");
    assert!(
        a.contains("#[serde(flatten)]\n    pub extra: rt::JsMap<f64>,"),
        "{a}"
    );
    let b = file(&folder, "msg_b.rs");
    assert!(b.contains("#[serde(untagged)]\npub enum MsgB {"), "{b}");
    let proto = ServiceProto::parse(
        r#"{"services":[{"id":0,"name":"B","type":"msg"}],"types":{"MsgB/MsgB":{"type":"String"}}}"#,
        "p.json",
    )
    .unwrap();
    let errs = errors(&proto, true);
    assert!(
        errs[0].starts_with("MsgB/MsgB: a TSRPC request, response or message that is `string`"),
        "{errs:?}"
    );
}
