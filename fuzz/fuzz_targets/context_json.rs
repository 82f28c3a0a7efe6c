//! An OFREP request body as the sidecar reads it: bytes → `serde_json::from_slice::<Value>`
//! → the `context` member (absent or null = `{}`) → `Context::from_json`.
//! The sidecar's own `read_context` is a private async fn in
//! sidecar/src/serve/routes.rs, so this mirrors its steps on the public API.
//! Also the whole body as a context (what `burgee eval --context` does),
//! read both ways: by `serde_json` and by the pull parser the sidecar reads
//! bodies with (`context::read_context`), which must agree whenever the
//! pull parser reads the text at all. Never panics; an accepted context's
//! lookups do not panic either.
#![no_main]

use burgee_rules::Context;
use burgee_rules::context::{Allowance, read_context};
use serde_json::Value;

fn exercise(context: &Context) {
    let _ = context.targeting_key();
    for key in context.attributes().keys() {
        let _ = context.lookup(key);
        let _ = context.lookup(&format!("{key}.{key}"));
    }
    let _ = context.lookup("");
    let _ = context.lookup(".");
    let _ = context.lookup("a.b.c");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.iter().all(u8::is_ascii_whitespace) {
        return; // the sidecar answers with an empty context
    }
    let mut jiter = jiter::Jiter::new(data);
    let pulled =
        read_context(&mut jiter, &mut Allowance::new(10_000, 64)).and_then(|r| Ok(jiter.finish().map(|()| r)?));
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        assert!(pulled.is_err(), "the pull parser read what serde_json refuses");
        return;
    };
    let whole = Context::from_json(body.clone());
    if let Ok(pulled) = pulled {
        match (&whole, pulled) {
            (Ok(a), Ok(Some(b))) => assert_eq!(a, &b),
            (Err(a), Err(b)) => assert_eq!(a, &b),
            (Err(_), Ok(None)) => assert!(body.is_null()),
            (a, b) => panic!("serde_json: {a:?}, pull parser: {b:?}"),
        }
    }
    if let Ok(context) = whole {
        exercise(&context);
    }
    let Value::Object(mut body) = body else { return };
    let context = match body.remove("context") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(c) => c,
    };
    if let Ok(context) = Context::from_json(context) {
        exercise(&context);
    }
});
