//! The resolver: flattening and TypeScript's type operators, with tsbuffer-validator's order.

use crate::import::proto::{IndexKey, Schema, SchemaKind, ServiceProto};
use crate::import::resolve::{Mapped, Owner, Resolver, Step};

const CORPUS_TS: &str = include_str!("../../../../tests/kitchen-sink/protocols/serviceProto.ts");

fn corpus() -> ServiceProto {
    ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap()
}

fn reference(id: &str) -> Schema {
    SchemaKind::Reference {
        target: id.to_owned(),
    }
    .into()
}

/// The property names of a flattened type, in JSON order.
fn names(r: &Resolver<'_>, s: &Schema) -> Vec<String> {
    r.flatten(s, &Owner::named("x"), "x", 0)
        .unwrap()
        .props
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn extends_own_fields_first_then_parents_in_order() {
    let proto = corpus();
    let r = Resolver::new(&proto);
    let flat = r
        .flatten(
            &reference("UserTypes/UserProfile"),
            &Owner::named("x"),
            "x",
            0,
        )
        .unwrap();
    let got: Vec<(&str, &str, Option<u32>, &[Step])> = flat
        .props
        .iter()
        .map(|p| (p.name.as_str(), p.owner.key.as_str(), p.id, &p.via[..]))
        .collect();
    assert_eq!(
        got,
        [
            ("nickname", "UserTypes/UserProfile", Some(0), &[][..]),
            ("level", "UserTypes/UserProfile", Some(1), &[]),
            ("xp", "UserTypes/UserProfile", Some(2), &[]),
            ("role", "UserTypes/UserProfile", Some(3), &[]),
            ("avatar", "UserTypes/UserProfile", Some(4), &[]),
            ("bio", "UserTypes/UserProfile", Some(5), &[]),
            ("settings", "UserTypes/UserProfile", Some(6), &[]),
            ("tags", "UserTypes/UserProfile", Some(7), &[]),
            ("id", "base/Identified", Some(0), &[Step::Extends(0)]),
            (
                "createdAt",
                "base/Timestamped",
                Some(0),
                &[Step::Extends(1)]
            ),
            (
                "updatedAt",
                "base/Timestamped",
                Some(1),
                &[Step::Extends(1)]
            ),
        ]
    );
}

#[test]
fn mapped_types_in_json_order() {
    let proto = corpus();
    let r = Resolver::new(&proto);
    // Pick follows its key list, not the target's order.
    assert_eq!(
        names(&r, &reference("UserTypes/PublicProfile")),
        ["id", "nickname", "level", "avatar"]
    );
    // Omit keeps the flattened order without the keys.
    assert_eq!(
        names(&r, &reference("UserTypes/ProfileCard")),
        ["nickname", "level", "xp", "role", "avatar", "bio", "tags", "id"]
    );
    // Partial<Pick<..>>: every property optional.
    let patch = r
        .flatten(
            &reference("UserTypes/ProfilePatch"),
            &Owner::named("x"),
            "x",
            0,
        )
        .unwrap();
    assert!(patch.props.iter().all(|p| p.optional));
    assert_eq!(patch.props.len(), 4);
    // Overwrite: the target without the overwritten fields, then the new ones.
    assert_eq!(
        names(&r, &reference("shop/PtlBuy/Receipt")),
        ["sku", "name", "category", "stats", "limited", "id", "price"]
    );
    let receipt = r
        .flatten(
            &reference("shop/PtlBuy/Receipt"),
            &Owner::named("x"),
            "x",
            0,
        )
        .unwrap();
    assert_eq!(receipt.props[6].via, [Step::Overwrite]);
    // Intersection: members in order, first declaration wins.
    let discounted = names(&r, &reference("shop/ShopTypes/DiscountedItem"));
    assert_eq!(discounted.last().map(String::as_str), Some("discount"));
    assert_eq!(discounted.len(), 8);
    // A properties + index signature interface.
    let wallet = r
        .flatten(
            &reference("shop/ShopTypes/Wallet"),
            &Owner::named("x"),
            "x",
            0,
        )
        .unwrap();
    assert_eq!(wallet.index.map(|i| i.key), Some(IndexKey::String));
}

#[test]
fn pick_of_a_union_applies_to_each_member_with_its_id() {
    let proto = corpus();
    let r = Resolver::new(&proto);
    let pick: Schema = SchemaKind::Pick {
        target: Box::new(reference("room/RoomTypes/MoveInput")),
        keys: vec!["kind".into()],
    }
    .into();
    let Mapped::Union(members) = r.mapped(&pick, &Owner::named("x"), "x").unwrap() else {
        panic!("a union")
    };
    assert_eq!(members.iter().map(|m| m.id).collect::<Vec<_>>(), [0, 1, 2]);
    for m in &members {
        assert_eq!(names(&r, &m.ty), ["kind"]);
    }
}

#[test]
fn indexed_access_keyof_and_non_nullable() {
    let proto = corpus();
    let r = Resolver::new(&proto);
    // An inherited property, found with its owner.
    let id = r
        .indexed_access(&reference("UserTypes/UserProfile"), "id", "x")
        .unwrap();
    assert_eq!(
        (id.owner.key.as_str(), id.optional),
        ("base/Identified", false)
    );
    // An optional property is `T | undefined`: the caller sees `optional`.
    let updated = r
        .indexed_access(&reference("UserTypes/UserProfile"), "updatedAt", "x")
        .unwrap();
    assert!(updated.optional);
    let err = r
        .indexed_access(&reference("UserTypes/UserProfile"), "nope", "T/X.f")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "T/X.f: `['nope']`: the type has no property `nope`"
    );
    let keys = r
        .keyof(&reference("room/RoomTypes/TeamRoster"), "x")
        .unwrap();
    assert_eq!(keys.names, ["red", "blue", "spectators"]);
    assert!(!keys.open);
    assert!(
        r.keyof(&reference("shop/ShopTypes/Wallet"), "x")
            .unwrap()
            .open
    );
    let SchemaKind::Interface(notice) = &proto.get("MsgServerNotice/MsgServerNotice").unwrap().kind
    else {
        panic!()
    };
    let SchemaKind::NonNullable { target } = &notice.properties.as_ref().unwrap()[3].ty.kind else {
        panic!()
    };
    assert_eq!(
        r.non_nullable(target, "x").unwrap().kind,
        SchemaKind::String
    );
}

#[test]
fn circular_and_mapped_parents_are_errors_not_overflows() {
    let proto = ServiceProto::parse(
        r#"{"services":[],"types":{
          "T/A":{"type":"Interface","extends":[{"id":0,"type":{"type":"Reference","target":"T/B"}}]},
          "T/B":{"type":"Interface","extends":[{"id":0,"type":{"type":"Reference","target":"T/A"}}]},
          "T/L":{"type":"Reference","target":"T/L"},
          "T/C":{"type":"Interface","extends":[{"id":0,"type":{"type":"Partial","target":{"type":"Reference","target":"T/D"}}}]},
          "T/D":{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"String"}},{"id":1,"name":"a2","type":{"type":"Number"}}]},
          "T/I":{"type":"Intersection","members":[{"id":0,"type":{"type":"Reference","target":"T/D"}},{"id":1,"type":{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"Number"}}]}}]}
        }}"#,
        "p.json",
    )
    .unwrap();
    let r = Resolver::new(&proto);
    let err = r
        .flatten(&reference("T/A"), &Owner::named("T/A"), "T/A", 0)
        .unwrap_err();
    assert!(err.message.contains("too deeply"), "{err}");
    let err = r.deref(&reference("T/L"), "T/L").unwrap_err();
    assert!(err.message.contains("circle"), "{err}");
    let err = r
        .flatten(&reference("T/C"), &Owner::named("T/C"), "T/C", 0)
        .unwrap_err();
    assert!(
        err.unsupported && err.message.starts_with("extends `Partial<..>`"),
        "{err}"
    );
    let err = r
        .flatten(&reference("T/I"), &Owner::named("T/I"), "T/I", 0)
        .unwrap_err();
    assert!(
        err.unsupported && err.message.contains("declare `a` with different types"),
        "{err}"
    );
}
