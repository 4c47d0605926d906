use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// W1/W2: `c = a + b`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReqAdd {
    pub a: f64,
    pub b: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ResAdd {
    pub c: f64,
}
