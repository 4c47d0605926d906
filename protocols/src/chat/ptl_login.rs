use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Logs in: `token-<username>-<id>`, ids counting up from 1000; password `wrong` fails with
/// `BAD_PASSWORD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReqLogin {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResLogin {
    pub token: String,
    pub user: LoginUser,
}

/// `ResLogin.user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LoginUser {
    pub id: f64,
    pub name: String,
}
