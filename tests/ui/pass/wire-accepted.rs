//! What the wire rules accept: integer, unit-enum and newtype map keys, an `Option` alias with
//! `skip_serializing_if`, generic helpers, a lifetime helper that owns its data (`Cow`), and an
//! empty response written `{}`. Both services get their glue.
use rpc_runtime::proto::ServiceKind;

#[rpc_macros::service(protocols = "ui/fixtures/wire-pass")]
pub mod game {}

use game::{Page, Profile, Team, UserId};

fn main() {
    let proto = game::service_proto();
    assert!(proto.find("Kick", ServiceKind::Api).is_some());
    assert!(proto.find("Scores", ServiceKind::Msg).is_some());
    assert_eq!(serde_json::to_string(&game::ResKick {}).unwrap(), "{}");

    let msg = game::MsgScores {
        by_team: [(Team::Red, 3)].into(),
        by_user: [(UserId("ann".into()), 2)].into(),
        by_round: [(7, "ann".into())].into(),
        nickname: None,
        page: Page {
            items: vec!["a".into()],
        },
        profile: Profile { bio: "hi".into() },
        motto: "go".into(),
    };
    let json = serde_json::to_string(&msg).unwrap();
    assert_eq!(
        json,
        r#"{"by_team":{"Red":3},"by_user":{"ann":2},"by_round":{"7":"ann"},"page":{"items":["a"]},"profile":{"bio":"hi"},"motto":"go"}"#
    );
    let back: game::MsgScores = serde_json::from_str(&json).unwrap();
    assert_eq!(back.by_round[&7], "ann");
}
