//! What a service is made of: the traits its protocol types implement ([`Api`], [`Message`],
//! [`MsgEnum`]; the generated code implements them), the service proto that lists its APIs and
//! messages ([`ServiceProto`]), and [`decode_json`], which decodes a protocol type with
//! TSRPC's validation and error text.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A message type (`MsgXxx`): its service name, such as `"room/UserJoin"`.
///
/// Implemented by the generated code for every message of a protocol folder, or by
/// `#[derive(rpc_runtime::Message)]` on a type declared by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a TSRPC message",
    note = "put it in the service's protocol folder as `msg_xxx.rs`, or derive `rpc_runtime::Message`"
)]
pub trait Message: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The service name (`"Chat"`, `"room/UserJoin"`).
    const NAME: &'static str;
}

/// An API: implemented on its request type (`ReqXxx`), naming the response type.
///
/// `client.call_api(ReqLogin { .. })` infers the API from the request.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the request type of a TSRPC API",
    note = "put `ReqXxx` and `ResXxx` in `ptl_xxx.rs` in the service's protocol folder, or derive `rpc_runtime::Api`"
)]
pub trait Api: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static {
    /// The service name (`"Login"`).
    const NAME: &'static str;
    /// The response type (`ResXxx`).
    type Res: Serialize + DeserializeOwned + JsonSchema + Send + Sync + 'static;
}

/// A closed set of messages (the generated `Msg` enum): decodes a message by name.
///
/// Regex listeners use it to hand over typed values.
pub trait MsgEnum: Sized + Send + 'static {
    /// Decodes the message called `name` from its JSON body. `Ok(None)` when no message of the
    /// set has that name; `Err` with a TSRPC-style text when the body does not match the type.
    fn decode(name: &str, json: &str) -> Result<Option<Self>, String>;
    /// The service name of this value.
    fn name(&self) -> &'static str;
}

/// Whether a service is an API or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// A request/response API.
    Api,
    /// A one-way message.
    Msg,
}

/// One entry of a [`ServiceProto`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceDef {
    /// The service name.
    pub name: String,
    /// API or message.
    #[serde(rename = "type")]
    pub kind: ServiceKind,
    /// JSON Schema of the request (API) or of the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub req_schema: Option<serde_json::Value>,
    /// JSON Schema of the response (APIs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub res_schema: Option<serde_json::Value>,
    /// TSRPC's service id (what binary mode sends): from the protocol folder's proto lock, or
    /// numbered as tsrpc-cli numbers a first generation when there is no lock. `None` for a
    /// hand-declared (extra) API or message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u32>,
    /// TSRPC's per-service `conf` (`export const conf = { needLogin: true }` in a TSRPC
    /// protocol file; `const CONF: &str = r#"{"needLogin":true}"#;` in a Rust one): settings
    /// the framework does not read, for flows to act on (see [`ServiceDef::conf`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conf: Option<serde_json::Value>,
}

impl ServiceDef {
    /// An API entry for `A`, with its schemas.
    pub fn api<A: Api>() -> Self {
        ServiceDef {
            name: A::NAME.to_owned(),
            kind: ServiceKind::Api,
            req_schema: Some(schemars::schema_for!(A).to_value()),
            res_schema: Some(schemars::schema_for!(A::Res).to_value()),
            id: None,
            conf: None,
        }
    }
    /// A message entry for `M`, with its schema.
    pub fn msg<M: Message>() -> Self {
        ServiceDef {
            name: M::NAME.to_owned(),
            kind: ServiceKind::Msg,
            req_schema: Some(schemars::schema_for!(M).to_value()),
            res_schema: None,
            id: None,
            conf: None,
        }
    }
    /// An entry known only by name and kind (untyped layer, proxies, tests).
    pub fn named(name: impl Into<String>, kind: ServiceKind) -> Self {
        ServiceDef {
            name: name.into(),
            kind,
            req_schema: None,
            res_schema: None,
            id: None,
            conf: None,
        }
    }
    /// The entry with its TSRPC service id.
    pub fn with_id(mut self, id: u32) -> Self {
        self.id = Some(id);
        self
    }
    /// The entry with its `conf`, given as JSON text (what the generated code passes; text
    /// that is not JSON, which the service macro refuses, leaves the entry without one).
    pub fn with_conf(mut self, json: &str) -> Self {
        self.conf = serde_json::from_str(json).ok();
        self
    }
    /// Its `conf`, if it has one: a JSON object such as `{"needLogin": true}`.
    ///
    /// ```
    /// use rpc_runtime::proto::{ServiceDef, ServiceKind};
    /// let def = ServiceDef::named("GetProfile", ServiceKind::Api).with_conf(r#"{"needLogin":true}"#);
    /// assert_eq!(def.conf().and_then(|c| c["needLogin"].as_bool()), Some(true));
    /// assert_eq!(ServiceDef::named("Login", ServiceKind::Api).conf(), None);
    /// ```
    pub fn conf(&self) -> Option<&serde_json::Value> {
        self.conf.as_ref()
    }
}

/// A service: every API and message it has. The generated `service_proto()` returns one.
///
/// ```
/// use rpc_runtime::proto::{ServiceDef, ServiceKind, ServiceProto};
/// let proto = ServiceProto::new("chat")
///     .with(ServiceDef::named("Add", ServiceKind::Api))
///     .with(ServiceDef::named("Chat", ServiceKind::Msg));
/// assert!(proto.find("Add", ServiceKind::Api).is_some());
/// assert!(proto.find("Add", ServiceKind::Msg).is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceProto {
    /// A name for the service (informational).
    pub name: String,
    /// Every API and message.
    pub services: Vec<ServiceDef>,
    /// TSRPC's service proto of the protocol folder, as JSON (its proto lock's text, or the
    /// proto with fresh ids): every type with its property and member ids, for binary mode.
    #[serde(skip)]
    pub tsrpc_proto: Option<&'static str>,
}

impl ServiceProto {
    /// An empty service.
    pub fn new(name: impl Into<String>) -> Self {
        ServiceProto {
            name: name.into(),
            services: Vec::new(),
            tsrpc_proto: None,
        }
    }
    /// Sets TSRPC's proto JSON ([`ServiceProto::tsrpc_proto`]).
    pub fn with_tsrpc_proto(mut self, json: &'static str) -> Self {
        self.tsrpc_proto = Some(json);
        self
    }
    /// Adds an entry.
    pub fn with(mut self, def: ServiceDef) -> Self {
        self.services.push(def);
        self
    }
    /// Adds the API `A`.
    pub fn with_api<A: Api>(self) -> Self {
        self.with(ServiceDef::api::<A>())
    }
    /// Adds the message `M`.
    pub fn with_msg<M: Message>(self) -> Self {
        self.with(ServiceDef::msg::<M>())
    }
    /// Finds an entry by name and kind.
    pub fn find(&self, name: &str, kind: ServiceKind) -> Option<&ServiceDef> {
        self.services
            .iter()
            .find(|s| s.kind == kind && s.name == name)
    }
    /// Names of every API.
    pub fn api_names(&self) -> impl Iterator<Item = &str> {
        self.services
            .iter()
            .filter(|s| s.kind == ServiceKind::Api)
            .map(|s| s.name.as_str())
    }
    /// Names of every message.
    pub fn msg_names(&self) -> impl Iterator<Item = &str> {
        self.services
            .iter()
            .filter(|s| s.kind == ServiceKind::Msg)
            .map(|s| s.name.as_str())
    }
}

/// Decodes JSON into `T`; on failure the error is TSRPC's text for it (as a server would close
/// a connection with). What a hand-written [`MsgEnum::decode`] uses.
///
/// ```
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct MsgAdd {
///     a: f64,
/// }
/// let msg: MsgAdd = rpc_runtime::proto::decode_json(r#"{"a":1}"#).unwrap();
/// assert_eq!(msg.a, 1.0);
/// let err = rpc_runtime::proto::decode_json::<MsgAdd>(r#"{"a":"x"}"#).err().unwrap();
/// assert_eq!(err, "Property `a`: Expected type to be `number`, actually `string`.");
/// ```
pub fn decode_json<T: DeserializeOwned + JsonSchema>(json: &str) -> Result<T, String> {
    crate::validate::decode(json)
}
