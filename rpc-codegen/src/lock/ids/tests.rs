//! One test per rule of [`super`]; protos are written as JSON, as tsrpc-cli writes them.

use super::*;
use crate::import::proto::ServiceProto;

fn proto(json: &str) -> ServiceProto {
    ServiceProto::parse(json, "test.json").unwrap_or_else(|e| panic!("{e}"))
}

/// A proto with one type `T` (and one message using it).
fn with_type(schema: &str) -> ServiceProto {
    proto(&format!(
        r#"{{"services":[{{"id":0,"name":"T","type":"msg"}}],"types":{{"MsgT/MsgT":{schema}}}}}"#
    ))
}

/// The ids of `T`'s schema as compact JSON.
fn type_text(p: &ServiceProto) -> String {
    p.get("MsgT/MsgT")
        .expect("the type")
        .to_json()
        .to_text(Layout::Compact)
}

fn keys(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn old(list: &[(&str, u32)]) -> Vec<(String, u32)> {
    list.iter().map(|(k, id)| ((*k).to_owned(), *id)).collect()
}

#[test]
fn without_an_old_list_ids_are_positions_and_equal_keys_share_one() {
    assert_eq!(
        gen_ids(&keys(&["a", "b", "c"]), None, "x"),
        Ok(vec![0, 1, 2])
    );
    assert_eq!(
        gen_ids(&keys(&["a", "b", "a"]), None, "x"),
        Ok(vec![0, 1, 0])
    );
}

#[test]
fn old_keys_keep_their_ids_and_new_keys_start_past_the_highest() {
    // `b` (1) removed, `d` new: it gets 3, past the old maximum (2), not the freed 1.
    let ids = gen_ids(
        &keys(&["c", "a", "d"]),
        Some(&old(&[("a", 0), ("b", 1), ("c", 2)])),
        "x",
    );
    assert_eq!(ids, Ok(vec![2, 0, 3]));
    // Two new keys in one step take consecutive ids.
    let ids = gen_ids(&keys(&["e", "f"]), Some(&old(&[("a", 7)])), "x");
    assert_eq!(ids, Ok(vec![8, 9]));
    // An empty old list is a start from 0.
    assert_eq!(gen_ids(&keys(&["a"]), Some(&[]), "x"), Ok(vec![0]));
}

#[test]
fn a_removed_maximum_comes_back_in_a_later_step_as_with_tsrpc_cli() {
    // Step 1: `b` (1) removed; the old list only knows `a` (0) afterwards.
    let step1 = gen_ids(&keys(&["a"]), Some(&old(&[("a", 0), ("b", 1)])), "x");
    assert_eq!(step1, Ok(vec![0]));
    // Step 2: `c` added against step 1's list: max + 1 = 1.
    let step2 = gen_ids(&keys(&["a", "c"]), Some(&old(&[("a", 0)])), "x");
    assert_eq!(step2, Ok(vec![0, 1]));
}

#[test]
fn no_id_past_u32_max() {
    let err = gen_ids(&keys(&["new"]), Some(&old(&[("a", u32::MAX)])), "PtlA/ReqA");
    assert_eq!(
        err,
        Err(IdOverflow {
            at: "PtlA/ReqA".into()
        })
    );
    // Keeping the old id is fine.
    assert_eq!(
        gen_ids(&keys(&["a"]), Some(&old(&[("a", u32::MAX)])), "x"),
        Ok(vec![u32::MAX])
    );
}

#[test]
fn services_are_keyed_by_kind_and_name() {
    let old_p = proto(
        r#"{"services":[{"id":0,"name":"Chat","type":"msg"},{"id":1,"name":"Login","type":"api"},{"id":2,"name":"Gone","type":"api"}],"types":{}}"#,
    );
    // A message `Login` is not the API `Login`; `Chat` keeps 0 though listed later.
    let fresh = proto(
        r#"{"services":[{"id":0,"name":"Login","type":"msg"},{"id":1,"name":"Login","type":"api"},{"id":2,"name":"Chat","type":"msg"}],"types":{}}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    let ids: Vec<(u32, &str, &str)> = p
        .services
        .iter()
        .map(|s| (s.id, s.kind.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(
        ids,
        [(3, "msg", "Login"), (1, "api", "Login"), (0, "msg", "Chat")]
    );
}

#[test]
fn properties_are_keyed_by_name() {
    let old_p = with_type(
        r#"{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"String"}},{"id":1,"name":"b","type":{"type":"Number"}}]}"#,
    );
    // Reordered (`b` first), `a` renamed to `c`, its type changed too: names decide.
    let fresh = with_type(
        r#"{"type":"Interface","properties":[{"id":0,"name":"b","type":{"type":"String"}},{"id":1,"name":"c","type":{"type":"String"}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Interface","properties":[{"id":1,"name":"b","type":{"type":"String"}},{"id":2,"name":"c","type":{"type":"String"}}]}"#
    );
}

#[test]
fn enum_members_are_keyed_by_value() {
    let old_p = with_type(
        r#"{"type":"Enum","members":[{"id":0,"value":"x"},{"id":1,"value":1.5},{"id":2,"value":2}]}"#,
    );
    // `2` and `'2'` are one key (`'' + value`), as in JavaScript.
    let fresh = with_type(
        r#"{"type":"Enum","members":[{"id":0,"value":"2"},{"id":1,"value":1.5},{"id":2,"value":"y"}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Enum","members":[{"id":2,"value":"2"},{"id":1,"value":1.5},{"id":3,"value":"y"}]}"#
    );
}

#[test]
fn union_members_are_keyed_by_their_type() {
    let old_p = with_type(
        r#"{"type":"Union","members":[{"id":0,"type":{"type":"Literal","literal":"a"}},{"id":1,"type":{"type":"Literal","literal":"b"}},{"id":2,"type":{"type":"Literal","literal":"c"}}]}"#,
    );
    // Reordered, `b` removed, `d` added.
    let fresh = with_type(
        r#"{"type":"Union","members":[{"id":0,"type":{"type":"Literal","literal":"c"}},{"id":1,"type":{"type":"Literal","literal":"d"}},{"id":2,"type":{"type":"Literal","literal":"a"}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Union","members":[{"id":2,"type":{"type":"Literal","literal":"c"}},{"id":3,"type":{"type":"Literal","literal":"d"}},{"id":0,"type":{"type":"Literal","literal":"a"}}]}"#
    );
}

#[test]
fn intersection_members_and_extends_are_keyed_by_their_type() {
    let old_p = with_type(
        r#"{"type":"Intersection","members":[{"id":0,"type":{"type":"Reference","target":"a/A"}},{"id":1,"type":{"type":"Reference","target":"b/B"}}]}"#,
    );
    let fresh = with_type(
        r#"{"type":"Intersection","members":[{"id":0,"type":{"type":"Reference","target":"b/B"}},{"id":1,"type":{"type":"Reference","target":"c/C"}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Intersection","members":[{"id":1,"type":{"type":"Reference","target":"b/B"}},{"id":2,"type":{"type":"Reference","target":"c/C"}}]}"#
    );

    let old_p = with_type(
        r#"{"type":"Interface","extends":[{"id":0,"type":{"type":"Reference","target":"a/A"}},{"id":1,"type":{"type":"Reference","target":"b/B"}}]}"#,
    );
    let fresh = with_type(
        r#"{"type":"Interface","extends":[{"id":0,"type":{"type":"Reference","target":"b/B"}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Interface","extends":[{"id":1,"type":{"type":"Reference","target":"b/B"}}]}"#
    );
}

#[test]
fn nested_ids_follow_the_old_property_member_element_and_index_signature() {
    // An object inside a property, inside a union member, inside an array and inside an
    // index signature, each losing its first field: the second keeps id 1 everywhere.
    let inner_old = r#"{"type":"Interface","properties":[{"id":0,"name":"x","type":{"type":"String"}},{"id":1,"name":"y","type":{"type":"String"}}]}"#;
    let inner_new =
        r#"{"type":"Interface","properties":[{"id":0,"name":"y","type":{"type":"String"}}]}"#;
    let wrap = |inner: &str| {
        format!(
            r#"{{"type":"Interface","properties":[{{"id":0,"name":"p","type":{inner}}},{{"id":1,"name":"arr","type":{{"type":"Array","elementType":{inner}}}}},{{"id":2,"name":"tup","type":{{"type":"Tuple","elementTypes":[{{"type":"String"}},{inner}]}}}},{{"id":3,"name":"map","type":{{"type":"Interface","indexSignature":{{"keyType":"String","type":{inner}}}}}}},{{"id":4,"name":"u","type":{{"type":"Union","members":[{{"id":0,"type":{{"type":"String"}}}},{{"id":1,"type":{inner}}}]}}}}]}}"#
        )
    };
    let p = keep_ids(
        &with_type(&wrap(inner_new)),
        Some(&with_type(&wrap(inner_old))),
    )
    .unwrap();
    let kept =
        r#"{"type":"Interface","properties":[{"id":1,"name":"y","type":{"type":"String"}}]}"#;
    // The union member's key is its fresh text, unlike the old member's: it is a new member
    // (id 2) and its fields start over, as tsrpc-cli does.
    let expected = format!(
        r#"{{"type":"Interface","properties":[{{"id":0,"name":"p","type":{kept}}},{{"id":1,"name":"arr","type":{{"type":"Array","elementType":{kept}}}}},{{"id":2,"name":"tup","type":{{"type":"Tuple","elementTypes":[{{"type":"String"}},{kept}]}}}},{{"id":3,"name":"map","type":{{"type":"Interface","indexSignature":{{"keyType":"String","type":{kept}}}}}}},{{"id":4,"name":"u","type":{{"type":"Union","members":[{{"id":0,"type":{{"type":"String"}}}},{{"id":2,"type":{inner_new}}}]}}}}]}}"#
    );
    assert_eq!(type_text(&p), expected);
}

#[test]
fn a_union_member_keeps_its_id_when_its_text_is_unchanged_but_not_when_nested_ids_moved() {
    // The old member's object has ids 1, 2 (a field was removed earlier): its text differs
    // from the fresh text (ids 0, 1) of the very same object, so tsrpc-cli gives a new id.
    let old_p = with_type(
        r#"{"type":"Union","members":[{"id":0,"type":{"type":"Interface","properties":[{"id":1,"name":"a","type":{"type":"String"}}]}},{"id":1,"type":{"type":"Interface","properties":[{"id":0,"name":"b","type":{"type":"String"}}]}}]}"#,
    );
    let fresh = with_type(
        r#"{"type":"Union","members":[{"id":0,"type":{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"String"}}]}},{"id":1,"type":{"type":"Interface","properties":[{"id":0,"name":"b","type":{"type":"String"}}]}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(
        type_text(&p),
        r#"{"type":"Union","members":[{"id":2,"type":{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"String"}}]}},{"id":1,"type":{"type":"Interface","properties":[{"id":0,"name":"b","type":{"type":"String"}}]}}]}"#
    );
}

#[test]
fn an_old_schema_of_another_kind_is_ignored() {
    let old_p = with_type(
        r#"{"type":"Union","members":[{"id":5,"type":{"type":"String"}},{"id":6,"type":{"type":"Number"}}]}"#,
    );
    let fresh = with_type(
        r#"{"type":"Interface","properties":[{"id":0,"name":"a","type":{"type":"String"}}]}"#,
    );
    let p = keep_ids(&fresh, Some(&old_p)).unwrap();
    assert_eq!(type_text(&p), type_text(&fresh));
    // A type the old proto does not have starts fresh too.
    let other = proto(r#"{"services":[],"types":{"X/Y":{"type":"String"}}}"#);
    let p = keep_ids(&fresh, Some(&other)).unwrap();
    assert_eq!(type_text(&p), type_text(&fresh));
}

#[test]
fn version_counts_changes_only() {
    let v1 = with_type(r#"{"type":"String"}"#);
    // No old proto: no version, as tsrpc-cli's first generation.
    assert_eq!(keep_ids(&v1, None).unwrap().version, None);
    // Unchanged against an old proto without a version: still none.
    assert_eq!(keep_ids(&v1, Some(&v1)).unwrap().version, None);
    // Changed: old + 1, an absent old version counting as 0.
    let v2 = with_type(r#"{"type":"Number"}"#);
    let p = keep_ids(&v2, Some(&v1)).unwrap();
    assert_eq!(p.version, Some(1));
    // Unchanged again: the version stays.
    assert_eq!(keep_ids(&v2, Some(&p)).unwrap().version, Some(1));
    // Ids come from the old proto, so an old proto that numbered the service 4 is unchanged.
    let mut old_p = p.clone();
    old_p.services[0].id = 4;
    let same = keep_ids(&v2, Some(&old_p)).unwrap();
    assert_eq!((same.services[0].id, same.version), (4, Some(1)));
}
