use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Always fails.
/// mode 'string' (default): ApiError, code 'E_FAIL' (string code) plus an extra field `detail`
/// mode 'number': ApiError, code 42 (int code)
/// mode 'throw': handler throws a plain Error -> ServerError 'Internal Server Error', code 'INTERNAL_ERR'
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ReqFail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FailMode>,
}

/// How `Fail` fails (`'string' | 'number' | 'throw'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    String,
    Number,
    Throw,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ResFail {}
