use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ReqAdd {
    pub a: f64,
    pub b: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct ResAdd {
    pub c: f64,
}
