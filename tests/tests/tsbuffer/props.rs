//! The round trip as a property: for generated values of several kitchen-sink types (unions
//! of tagged objects, tuples with optional elements, index signatures with string and number
//! keys, `Pick` over a union, `extends` blocks, `Overwrite`, `Omit`, intersections, literals,
//! enums with negative values and gaps, nullable fields, dates, bytes, typed arrays, ObjectIds,
//! `any` and `object` values), decoding the encoding gives the value back.

use proptest::collection::vec;
use proptest::prelude::*;
use rpc_runtime::json::MAX_SAFE_INTEGER;
use rpc_runtime::types::{Bytes, Date, Float32Array, JsMap, JsonValue, LitBool, LitInt, ObjectId};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::kitchen::{self, room, shop};
use super::proto;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    id: &str,
    value: &T,
) -> Result<(), TestCaseError> {
    let schema = proto().schema(id).unwrap();
    let bytes = proto()
        .encode(schema, value)
        .map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
    let back: T = proto()
        .decode(schema, &bytes)
        .map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

/// A `uint`: any integer a TypeScript peer reads exactly (the encoder refuses the rest, see
/// `unsafe_integers_are_refused`), small ones often (one-byte varints).
fn uint() -> impl Strategy<Value = u64> {
    prop_oneof![0..128u64, 0..=MAX_SAFE_INTEGER, Just(MAX_SAFE_INTEGER)]
}

/// An `int`, as [`uint`].
fn int() -> impl Strategy<Value = i64> {
    const MAX: i64 = MAX_SAFE_INTEGER as i64;
    prop_oneof![-64..64i64, -MAX..=MAX, Just(MAX), Just(-MAX)]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "\\PC{0,6}", Just(String::new())]
}

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..20).prop_map(Bytes::from)
}

fn date() -> impl Strategy<Value = Date> {
    (-8_640_000_000_000_000i64..=8_640_000_000_000_000).prop_map(Date::from_millis)
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i32..1000).prop_map(f64::from),
        Just(-0.0),
    ]
}

/// A number inside an `any` value (which travels as JSON text): any finite double reads back
/// exactly (serde_json's `float_roundtrip`, on in the workspace), integers beyond 2^53 aside
/// (the encoder refuses them).
fn json_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<i32>().prop_map(f64::from),
        (-1_000_000i32..1_000_000).prop_map(|n| f64::from(n) / 8.0),
        Just(9_007_199_254_740_991.0),
        Just(1e21),
        any::<f64>().prop_filter("finite, not an integer beyond 2^53", |f| {
            f.is_finite() && !(f.fract() == 0.0 && f.abs() > 9_007_199_254_740_991.0)
        }),
    ]
}

fn json() -> impl Strategy<Value = JsonValue> {
    let leaf = prop_oneof![
        Just(JsonValue::Null),
        any::<bool>().prop_map(JsonValue::Bool),
        json_number().prop_map(JsonValue::Number),
        text().prop_map(JsonValue::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(JsonValue::Array),
            vec((text(), inner), 0..4).prop_map(|kv| JsonValue::Object(kv.into_iter().collect())),
        ]
    })
}

/// An `object` value: an object or an array.
fn object() -> impl Strategy<Value = JsonValue> {
    json().prop_map(|v| match v {
        v @ (JsonValue::Object(_) | JsonValue::Array(_)) => v,
        other => JsonValue::Array(vec![other]),
    })
}

fn move_input() -> impl Strategy<Value = room::MoveInput> {
    prop_oneof![
        (int(), int()).prop_map(|dir| room::MoveInput::WalkInput(room::WalkInput {
            kind: room::WalkInputKind::Walk,
            dir,
        })),
        ((int(), int()), finite()).prop_map(|(dir, charge)| {
            room::MoveInput::DashInput(room::DashInput {
                kind: room::DashInputKind::Dash,
                dir,
                charge,
            })
        }),
        uint().prop_map(|emote_id| room::MoveInput::EmoteInput(room::EmoteInput {
            kind: room::EmoteInputKind::Emote,
            emote_id,
        })),
    ]
}

prop_compose! {
    fn player_move()(
        player_id in uint(),
        frame in uint(),
        input in move_input(),
        path in proptest::option::of(vec(any::<f32>().prop_filter("finite", |f| f.is_finite()), 0..6)),
    ) -> room::MsgPlayerMove {
        room::MsgPlayerMove { player_id, frame, input, path: path.map(Float32Array::from) }
    }
}

prop_compose! {
    fn login()(
        account in text(),
        password in proptest::option::of(text()),
        platform in prop_oneof![
            Just(kitchen::LoginPlatform::Ios),
            Just(kitchen::LoginPlatform::Android),
            Just(kitchen::LoginPlatform::Web),
            Just(kitchen::LoginPlatform::Steam),
        ],
        device_key in proptest::option::of(bytes()),
        version in (uint(), uint(), proptest::option::of(uint())),
        remember_me: bool,
        sso in proptest::option::of(text()),
        client_build in proptest::option::of(text()),
    ) -> kitchen::ReqLogin {
        kitchen::ReqLogin {
            account,
            password,
            platform,
            device_key,
            client_version: kitchen::LoginClientVersion(version.0, version.1, version.2),
            remember_me,
            sso,
            client_build,
        }
    }
}

prop_compose! {
    fn chat()(
        channel in prop_oneof![
            Just(kitchen::ChatChannel::World),
            Just(kitchen::ChatChannel::Room),
            Just(kitchen::ChatChannel::Whisper),
        ],
        id in uint(),
        nickname in text(),
        level in uint(),
        avatar in proptest::option::of(bytes()),
        text in text(),
        mentions in proptest::option::of(vec(uint(), 0..5)),
        reply_to in proptest::option::of(uint()),
        sent_at in date(),
        attachments in proptest::option::of(vec(json(), 0..4)),
    ) -> kitchen::MsgChat {
        kitchen::MsgChat {
            channel,
            from: kitchen::PublicProfile { id, nickname, level, avatar },
            text,
            mentions,
            reply_to,
            sent_at,
            attachments,
        }
    }
}

fn last_input() -> impl Strategy<Value = room::RoomStateLastInputValue> {
    prop_oneof![
        Just(room::RoomStateLastInputValue::WalkInput(
            room::RoomStateLastInputValueWalkInput {
                kind: room::WalkInputKind::Walk
            }
        )),
        Just(room::RoomStateLastInputValue::DashInput(
            room::RoomStateLastInputValueDashInput {
                kind: room::DashInputKind::Dash
            }
        )),
        Just(room::RoomStateLastInputValue::EmoteInput(
            room::RoomStateLastInputValueEmoteInput {
                kind: room::EmoteInputKind::Emote
            }
        )),
    ]
}

prop_compose! {
    fn player_state()(
        pos in (finite(), finite()),
        hp in uint(),
        effects in proptest::option::of(vec((text(), uint()), 0..3)),
        alive: bool,
    ) -> room::PlayerState {
        room::PlayerState { pos, hp, effects: effects.map(|e| e.into_iter().collect()), alive }
    }
}

prop_compose! {
    fn room_state()(
        room_id in text(),
        phase in prop_oneof![
            Just(room::RoomStatePhase::Lobby),
            Just(room::RoomStatePhase::Countdown),
            Just(room::RoomStatePhase::Playing),
            Just(room::RoomStatePhase::Ended),
        ],
        countdown in proptest::option::of(uint()),
        players in vec((text(), player_state()), 0..3),
        scores in vec((any::<i32>(), int()), 0..4),
        leaderboard in vec((uint(), int(), uint()), 0..3),
        walls in proptest::option::of(vec((uint(), uint()), 0..3)),
        last_input in proptest::option::of(vec((text(), last_input()), 0..3)),
        tick in uint(),
    ) -> room::MsgRoomState {
        room::MsgRoomState {
            room_id,
            phase,
            countdown,
            players: players.into_iter().collect(),
            scores: scores.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            leaderboard: leaderboard
                .into_iter()
                .map(|(user_id, score, rank)| room::LeaderboardEntry { user_id, score, rank })
                .collect(),
            walls,
            last_input: last_input.map(|l| l.into_iter().collect()),
            tick,
        }
    }
}

fn category() -> impl Strategy<Value = shop::ItemCategory> {
    prop_oneof![
        Just(shop::ItemCategory::V1),
        Just(shop::ItemCategory::V2),
        Just(shop::ItemCategory::V3),
        Just(shop::ItemCategory::V4),
    ]
}

fn currency() -> impl Strategy<Value = shop::Currency> {
    prop_oneof![Just(shop::Currency::Gold), Just(shop::Currency::Gem)]
}

fn reward() -> impl Strategy<Value = shop::Reward> {
    prop_oneof![
        uint().prop_map(|amount| shop::Reward::GoldReward(shop::GoldReward {
            r#type: LitInt::<1>,
            amount,
        })),
        (uint(), uint()).prop_map(|(item_id, count)| {
            shop::Reward::ItemReward(shop::ItemReward {
                r#type: LitInt::<2>,
                item_id,
                count,
            })
        }),
        text().prop_map(|title| shop::Reward::TitleReward(shop::TitleReward {
            r#type: LitInt::<3>,
            title,
        })),
    ]
}

prop_compose! {
    fn buy()(
        order_id: [u8; 12],
        sku in text(),
        name in text(),
        category in category(),
        stats in proptest::option::of((proptest::option::of(int()), proptest::option::of(int()), proptest::option::of(finite()))),
        limited: bool,
        id in uint(),
        price in (uint(), currency(), uint()),
        wallet in ((uint(), uint()), 0..3u8, vec(("k[a-z]{0,4}", uint()), 0..3)),
        bonus in vec(reward(), 0..4),
        server_time in proptest::option::of(date()),
    ) -> shop::ResBuy {
        shop::ResBuy {
            order_id: ObjectId::from_bytes(order_id),
            receipt: shop::Receipt {
                sku,
                name,
                category,
                stats: stats.map(|(attack, defense, speed)| shop::PartialItemStats { attack, defense, speed }),
                limited,
                id,
                price: shop::ReceiptPrice { amount: price.0, currency: price.1, paid: price.2 },
            },
            wallet: shop::Wallet {
                gold: wallet.0 .0,
                gems: wallet.0 .1,
                vip: [shop::VipTier::V0, shop::VipTier::V1, shop::VipTier::V2][usize::from(wallet.1)],
                extra: wallet.2.into_iter().collect::<JsMap<u64>>(),
            },
            bonus,
            chain: None,
            server_time,
        }
    }
}

fn role() -> impl Strategy<Value = kitchen::Role> {
    prop_oneof![
        Just(kitchen::Role::V0),
        Just(kitchen::Role::V5),
        Just(kitchen::Role::V6),
        Just(kitchen::Role::Neg1),
    ]
}

prop_compose! {
    fn update_profile()(
        level in uint(),
        xp in int(),
        role in role(),
        bio in proptest::option::of(proptest::option::of(text())),
        settings in object(),
        tags in vec(text(), 0..3),
        id in uint(),
        created_at in date(),
        updated_at in proptest::option::of(date()),
        avatar in proptest::option::of(bytes()),
        nickname in text(),
        card_avatar in proptest::option::of(bytes()),
    ) -> kitchen::ResUpdateProfile {
        kitchen::ResUpdateProfile {
            saved: LitBool::<true>,
            profile: kitchen::UpdateProfileProfile {
                level,
                xp,
                role,
                bio: bio.clone(),
                settings,
                tags: tags.clone(),
                id,
                created_at,
                updated_at,
                avatar,
                nickname: nickname.clone(),
            },
            card: kitchen::ProfileCard {
                nickname,
                level,
                xp,
                role,
                avatar: card_avatar,
                bio,
                tags,
                id,
            },
        }
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn player_moves_round_trip(v in player_move()) {
        round_trip("room/MsgPlayerMove/MsgPlayerMove", &v)?;
    }

    #[test]
    fn logins_round_trip(v in login()) {
        round_trip("PtlLogin/ReqLogin", &v)?;
    }

    #[test]
    fn chats_round_trip(v in chat()) {
        round_trip("MsgChat/MsgChat", &v)?;
    }

    #[test]
    fn room_states_round_trip(v in room_state()) {
        round_trip("room/MsgRoomState/MsgRoomState", &v)?;
    }

    #[test]
    fn purchases_round_trip(v in buy()) {
        round_trip("shop/PtlBuy/ResBuy", &v)?;
    }

    #[test]
    fn profile_updates_round_trip(v in update_profile()) {
        round_trip("PtlUpdateProfile/ResUpdateProfile", &v)?;
    }

    /// One integer beyond JavaScript's safe range anywhere in a value fails its encoding,
    /// naming the field, as JSON does.
    #[test]
    fn unsafe_integers_are_refused(v in login(), beyond in MAX_SAFE_INTEGER + 1..=u64::MAX, at in 0..3usize) {
        let mut v = v;
        match at {
            0 => v.client_version.0 = beyond,
            1 => v.client_version.1 = beyond,
            _ => v.client_version.2 = Some(beyond),
        }
        let schema = proto().schema("PtlLogin/ReqLogin").unwrap();
        let err = proto().encode(schema, &v).unwrap_err().to_string();
        prop_assert!(err.contains(&format!("`clientVersion.{at}`: the integer {beyond} is beyond")), "{}", err);
    }

    /// Inside a union too: the refusal, not "no member matches".
    #[test]
    fn unsafe_integers_inside_unions_are_refused(v in player_move(), beyond in MAX_SAFE_INTEGER as i64 + 1..=i64::MAX) {
        let mut v = v;
        v.input = room::MoveInput::WalkInput(room::WalkInput { kind: room::WalkInputKind::Walk, dir: (1, -beyond) });
        let schema = proto().schema("room/MsgPlayerMove/MsgPlayerMove").unwrap();
        let err = proto().encode(schema, &v).unwrap_err().to_string();
        prop_assert!(err.contains(&format!("`input`: the integer -{beyond} is beyond")), "{}", err);
    }

    /// Golden vectors with bytes flipped, cut, inserted or repeated decode (to a value or an
    /// error) without panicking.
    #[test]
    fn mutated_vectors_never_panic(
        pick: usize,
        edits in vec((any::<usize>(), any::<u8>(), 0..4u8), 1..6),
    ) {
        let vectors = super::vectors();
        let with_bytes: Vec<_> = vectors.vectors.iter().filter(|v| v.hex.is_some()).collect();
        let v = with_bytes[pick % with_bytes.len()];
        let mut bytes = super::unhex(v.hex.as_deref().unwrap());
        for (at, byte, how) in edits {
            let at = at % (bytes.len() + 1);
            match how {
                0 if at < bytes.len() => bytes[at] ^= byte | 1,
                1 => bytes.truncate(at),
                2 => bytes.insert(at, byte),
                _ => {
                    let tail = bytes[at..].to_vec();
                    bytes.extend_from_slice(&tail);
                }
            }
        }
        let _ = super::case(&v.r#type).decode_json(&bytes);
    }

    /// Whatever the bytes, decoding answers (a value or an error) without panicking.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..64)) {
        let p = proto();
        for id in ["PtlLogin/ReqLogin", "room/MsgRoomState/MsgRoomState", "shop/PtlBuy/ResBuy"] {
            let _ = p.decode::<serde::de::IgnoredAny>(p.schema(id).unwrap(), &bytes);
        }
        let _ = p.decode::<kitchen::ReqLogin>(p.schema("PtlLogin/ReqLogin").unwrap(), &bytes);
        let _ = p.decode::<room::MsgRoomState>(p.schema("room/MsgRoomState/MsgRoomState").unwrap(), &bytes);
    }
}
