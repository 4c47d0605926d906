//! Tests of `validate`: typed decodes and their error texts, `explain` on hand-written
//! schemas, the walk's limits, the field-order probe, and the strict deserializer.
//!
//! Expected texts were checked against tsbuffer-validator 2.1.3 running in
//! Node.js (`TSBufferValidator#prune` on the equivalent TypeScript types),
//! except where a test says it shows a choice of ours.
//!
//! This file holds the helpers and the protocol types the cases share; the cases are in
//! `decode` (typed decodes and their texts), `explain` (schemas, order, limits, numbers) and
//! `strict` (the strict deserializer on its own).

// The test types' fields are only read through `Debug`.
#![allow(dead_code)]

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::{decode, explain, TOO_COMPLEX};
use crate::json::js_f64;

fn err<T: serde::de::DeserializeOwned + JsonSchema + std::fmt::Debug>(json: &str) -> String {
    match decode::<T>(json) {
        Ok(v) => panic!("{json} decoded to {v:?}"),
        Err(e) => e,
    }
}

fn explain_for<T: JsonSchema>(value: serde_json::Value) -> Option<String> {
    explain(&schemars::schema_for!(T).to_value(), &value)
}

#[derive(Debug, Deserialize, JsonSchema)]
struct User {
    id: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasUser {
    user: User,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Tags {
    tags: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Flag {
    b: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Frame {
    frame: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Dx {
    dx: i32,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Widths {
    a: Option<u8>,
    b: Option<i8>,
    c: Option<u64>,
    d: Option<i64>,
    e: Option<std::num::NonZeroU16>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Mode {
    String,
    Number,
    Throw,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasMode {
    mode: Mode,
    opt_mode: Option<Mode>,
}

/// Documented variants make schemars write `oneOf` of `const`s.
#[derive(Debug, Deserialize, JsonSchema)]
enum Documented {
    /// First.
    A,
    /// Second.
    B,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasDocumented {
    d: Documented,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Opt {
    o: Option<String>,
    r: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct OptUser {
    user: Option<User>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "type")]
enum Tagged {
    A { x: f64 },
    B { y: String, z: Option<u32> },
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasTagged {
    p: Tagged,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Untagged {
    S(String),
    N(u32),
}

#[derive(Debug, Deserialize, JsonSchema)]
enum External {
    U,
    N(u8),
    S { k: String },
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasExternal {
    e: External,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Tup {
    t: (u32, String),
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Fixed {
    arr: [u8; 3],
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Maps {
    m: HashMap<u32, String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct StrMap {
    m: HashMap<String, u8>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Unit {
    n: (),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Strict {
    a: u8,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Bytes {
    data: String,
    raw: Vec<u8>,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Node {
    name: String,
    children: Vec<Node>,
    next: Option<Box<Node>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
enum Expr {
    Add(Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Lit(f64),
}

/// Declared order differs from alphabetical order, and an optional field
/// comes before a required one.
#[derive(Debug, Deserialize, JsonSchema)]
struct Ordered {
    z: Option<f64>,
    a: String,
    m: Option<bool>,
    b: u8,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct HasOrdered {
    list: Vec<Ordered>,
    inner: Option<Ordered>,
}

#[derive(Debug, Deserialize, JsonSchema)]
enum VariantOrder {
    First { q: u8 },
    Second { zz: Option<u8>, aa: u8 },
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Wrapper<T> {
    value: T,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Float {
    f: f64,
    g: f32,
}

mod decode;
mod explain;
mod strict;
