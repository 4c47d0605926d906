//! The proto reader and writers against the kitchen-sink corpus (`tests/kitchen-sink`, made by
//! the real tsrpc-cli 2.4.5): every form comes back byte for byte.

use crate::import::proto::{
    ArrayType, EnumValue, Layout, LiteralValue, ScalarType, SchemaKind, ServiceKind, ServiceProto,
};

const CORPUS_TS: &str = include_str!("../../../../tests/kitchen-sink/protocols/serviceProto.ts");
const CORPUS_JSON: &str = include_str!("../../../../tests/kitchen-sink/serviceProto.json");

fn object_literal(ts: &str) -> &str {
    let start = ts.find("= {").expect("the object") + 2;
    ts[start..].strip_suffix(';').expect("ends with `;`")
}

#[test]
fn ts_file_round_trips_byte_for_byte() {
    let proto = ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap();
    assert_eq!(proto.to_ts(""), CORPUS_TS);
    assert_eq!(
        proto.to_json_text(Layout::Indent(4)),
        object_literal(CORPUS_TS)
    );
}

#[test]
fn json_lines_round_trip_byte_for_byte() {
    let proto = ServiceProto::parse(CORPUS_JSON, "serviceProto.json").unwrap();
    assert_eq!(proto.to_json_lines(), CORPUS_JSON);
    // Both files hold the same proto.
    assert_eq!(
        proto,
        ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap()
    );
}

#[test]
fn every_layout_reads_back_equal() {
    let proto = ServiceProto::parse(CORPUS_JSON, "serviceProto.json").unwrap();
    for layout in [Layout::Compact, Layout::Indent(2), Layout::Indent(4)] {
        let text = proto.to_json_text(layout);
        assert_eq!(
            ServiceProto::parse(&text, "x.json").unwrap(),
            proto,
            "{layout:?}"
        );
    }
    let ts = proto.to_ts("../protocols");
    assert!(
        ts.contains("import { MsgChat } from '../protocols/MsgChat';"),
        "{ts}"
    );
    assert_eq!(ServiceProto::parse(&ts, "x.ts").unwrap(), proto);
}

#[test]
fn ids_kinds_and_conf_are_kept() {
    let proto = ServiceProto::parse(CORPUS_TS, "serviceProto.ts").unwrap();
    assert_eq!(proto.version, None);
    assert_eq!(proto.services.len(), 12);
    let buy = &proto.services[10];
    assert_eq!(
        (buy.id, buy.name.as_str(), buy.kind),
        (10, "shop/Buy", ServiceKind::Api)
    );
    assert_eq!(buy.type_ids(), ["shop/PtlBuy/ReqBuy", "shop/PtlBuy/ResBuy"]);
    assert_eq!(
        buy.conf.as_ref().unwrap().to_text(Layout::Compact),
        r#"{"needLogin":true,"rateLimit":30}"#
    );
    assert!(proto.services[11].conf.is_none());
    // Types keep the proto's order (discovery order, not sorted).
    let ids: Vec<&str> = proto.types.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        &ids[..3],
        [
            "MsgChat/MsgChat",
            "MsgChat/ChatChannel",
            "UserTypes/PublicProfile"
        ]
    );
    let SchemaKind::Enum { members } = &proto.get("UserTypes/Role").unwrap().kind else {
        panic!()
    };
    assert_eq!(members[3].id, 3);
    assert_eq!(members[3].value, EnumValue::Number(-1.0));
    let SchemaKind::Interface(chain) = &proto.get("shop/ShopTypes/OnChainBalance").unwrap().kind
    else {
        panic!()
    };
    let props = chain.properties.as_ref().unwrap();
    assert_eq!(
        props[2].ty.kind,
        SchemaKind::Number {
            scalar_type: Some(ScalarType::Biguint64)
        }
    );
    assert!(props[2].optional);
    let SchemaKind::Interface(notice) = &proto.get("MsgServerNotice/MsgServerNotice").unwrap().kind
    else {
        panic!()
    };
    let props = notice.properties.as_ref().unwrap();
    assert_eq!(
        props[10].ty.kind,
        SchemaKind::Literal {
            literal: Some(LiteralValue::Null)
        }
    );
    let SchemaKind::Union { members } = &props[7].ty.kind else {
        panic!()
    };
    assert_eq!(members[1].ty.kind, SchemaKind::Literal { literal: None });
    let SchemaKind::Interface(mv) = &proto.get("room/MsgPlayerMove/MsgPlayerMove").unwrap().kind
    else {
        panic!()
    };
    assert_eq!(
        mv.properties.as_ref().unwrap()[3].ty.kind,
        SchemaKind::Buffer {
            array_type: Some(ArrayType::Float32Array)
        }
    );
}

#[test]
fn gaps_version_comments_and_key_order() {
    // Out of order keys come back in tsrpc-cli's order; ids with gaps and comments are kept.
    let text = r#"{"types":{"PtlA/ReqA":{"properties":[{"optional":true,"type":{"type":"String"},"name":"x","id":7,"comment":"the x"}],"type":"Interface","comment":"A request"},
        "PtlA/ResA":{"type":"Interface"},
        "T/P":{"type":"Pick","keys":["x"],"target":{"type":"Reference","target":"PtlA/ReqA"}},
        "T/U":{"type":"Union","members":[{"id":3,"type":{"type":"Reference","target":"../models/User/User"}},{"id":1,"type":{"type":"Reference","target":"?mongodb/ObjectId"}}]}},
      "services":[{"type":"api","name":"A","id":9,"conf":{"z":1,"a":[1.5,"s",null]}}],"version":4}"#;
    let proto = ServiceProto::parse(text, "p.json").unwrap();
    assert_eq!(
        proto.to_json_text(Layout::Compact),
        r#"{"version":4,"services":[{"id":9,"name":"A","type":"api","conf":{"z":1,"a":[1.5,"s",null]}}],"types":{"PtlA/ReqA":{"type":"Interface","properties":[{"id":7,"name":"x","type":{"type":"String"},"optional":true,"comment":"the x"}],"comment":"A request"},"PtlA/ResA":{"type":"Interface"},"T/P":{"target":{"type":"Reference","target":"PtlA/ReqA"},"keys":["x"],"type":"Pick"},"T/U":{"type":"Union","members":[{"id":3,"type":{"type":"Reference","target":"../models/User/User"}},{"id":1,"type":{"type":"Reference","target":"?mongodb/ObjectId"}}]}}}"#
    );
}

#[test]
fn ts_imports_renamed_as_tsrpc_cli_does() {
    let text = r#"{"services":[{"id":0,"name":"a/Login","type":"api"},{"id":1,"name":"b/Login","type":"api"},{"id":2,"name":"Login","type":"api"}],"types":{}}"#;
    let ts = ServiceProto::parse(text, "p.json").unwrap().to_ts("");
    assert!(ts.starts_with("import { ServiceProto } from 'tsrpc-proto';\nimport { ReqLogin, ResLogin } from './a/PtlLogin';\nimport { ReqLogin as ReqLogin_1, ResLogin as ResLogin_1 } from './b/PtlLogin';\nimport { ReqLogin as ReqLogin_2, ResLogin as ResLogin_2 } from './PtlLogin';\n"), "{ts}");
    assert!(ts.contains("        \"b/Login\": {\n            req: ReqLogin_1,\n            res: ResLogin_1\n        },"), "{ts}");
    assert!(ts.contains("    msg: {\n\n    }\n}"), "{ts}");
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let with_bom = format!("\u{feff}{CORPUS_JSON}");
    let proto = ServiceProto::parse(&with_bom, "serviceProto.json").unwrap();
    assert_eq!(proto.to_json_lines(), CORPUS_JSON);
}

#[test]
fn mistakes_are_located() {
    for (text, expected) in [
        (
            "{\"services\":[],\n\"types\":{\"A/B\":{\"type\":\"Strin\"}}}",
            "p.ts:2:24: type `A/B`: unknown schema type `Strin`",
        ),
        (
            "{\"services\":[{\"id\":-1,\"name\":\"A\",\"type\":\"api\"}],\"types\":{}}",
            "p.ts:1:20: services[0].id should be a whole number",
        ),
        (
            "{\"services\":[],\"types\":{\"A/B\":{\"type\":\"Interface\",\"propertys\":[]}}}",
            "p.ts:1:51: type `A/B` has an unknown key `propertys`",
        ),
        (
            "{\"services\":[],\"types\":{\"A/B\":{\"type\":\"Interface\",\"properties\":[{\"id\":0,\"name\":\"x\"}]}}}",
            "p.ts:1:65: type `A/B`.properties[0] (`x`) has no `type`",
        ),
        ("{\"types\":{}}", "p.ts:1:1: the proto has no `services`"),
        (
            "import x from 'y';\nexport const other = 1;",
            "p.ts:1:1: no `export const serviceProto",
        ),
        (
            "export const serviceProto: ServiceProto<ServiceType> = {\n    \"services\": [,]\n};",
            "p.ts:2:18: the proto object is not JSON: unexpected `,`",
        ),
    ] {
        let err = ServiceProto::parse(text, "p.ts").unwrap_err().to_string();
        assert!(err.starts_with(expected), "{err}\n  expected: {expected}");
    }
}
