//! A small module split in two, checked by the validator and run in Node the way the app's
//! glue runs the two parts (`js/load.js`): the primary alone, then the secondary linked on the
//! first call into it.

use beckon_wasm_split::{instrument, normal_name, shorten, split};
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use walrus::ir::{BinaryOp, MemArg, StoreKind, Value};
use walrus::{ConstExpr, ElementItems, ElementKind, FunctionBuilder, Module, RefType, ValType};

/// `run(x) = b(x) + d(x) + 1` where `b(x) = c(x) * 2` (and stores it at address 0),
/// `c(x) = x + G` (a mutable global, 5), and `d(x) = x * 3` is only ever called through the
/// table. `run` and `c` are the ones a "usual session" keeps; `b` and `d` are just big enough
/// to be worth moving (10 instructions).
fn sample() -> Vec<u8> {
    sample_adding(5)
}

/// [`sample`] with another value of G: the same functions, another build.
fn sample_adding(global: i32) -> Vec<u8> {
    let mut m = Module::default();
    let memory = m.memories.add_local(false, false, 1, None, None);
    m.exports.add("memory", memory);
    let g = m.globals.add_local(
        ValType::I32,
        true,
        false,
        ConstExpr::Value(Value::I32(global)),
    );
    let unary = |m: &mut Module,
                 name: &str,
                 body: &dyn Fn(&mut walrus::InstrSeqBuilder, walrus::LocalId)| {
        let x = m.locals.add(ValType::I32);
        let mut f = FunctionBuilder::new(&mut m.types, &[ValType::I32], &[ValType::I32]);
        f.name(name.to_owned());
        body(&mut f.func_body(), x);
        f.finish(vec![x], &mut m.funcs)
    };
    let c = unary(&mut m, "c", &|b, x| {
        b.local_get(x).global_get(g).binop(BinaryOp::I32Add);
    });
    let b = unary(&mut m, "b[1a2b3c4d5e6f7a8b]::double", &|b, x| {
        b.i32_const(0)
            .local_get(x)
            .call(c)
            .i32_const(2)
            .binop(BinaryOp::I32Mul)
            .i32_const(0)
            .binop(BinaryOp::I32Add)
            .store(
                memory,
                StoreKind::I32 { atomic: false },
                MemArg {
                    align: 4,
                    offset: 0,
                },
            )
            .i32_const(0)
            .load(
                memory,
                walrus::ir::LoadKind::I32 { atomic: false },
                MemArg {
                    align: 4,
                    offset: 0,
                },
            );
    });
    let d = unary(&mut m, "d", &|b, x| {
        b.local_get(x)
            .i32_const(3)
            .binop(BinaryOp::I32Mul)
            .i32_const(0)
            .binop(BinaryOp::I32Add)
            .i32_const(1)
            .binop(BinaryOp::I32Mul)
            .i32_const(0)
            .binop(BinaryOp::I32Or)
            .i32_const(0)
            .binop(BinaryOp::I32Xor);
    });
    let table = m.tables.add_local(false, 1, Some(1), RefType::FUNCREF);
    let segment = m.elements.add(
        ElementKind::Active {
            table,
            offset: ConstExpr::Value(Value::I32(0)),
        },
        ElementItems::Functions(vec![d]),
    );
    m.tables.get_mut(table).elem_segments.insert(segment);
    let ty = m.funcs.get(d).ty();
    let run = unary(&mut m, "run", &|body, x| {
        body.local_get(x)
            .call(b)
            .local_get(x)
            .i32_const(0)
            .call_indirect(ty, table)
            .binop(BinaryOp::I32Add)
            .i32_const(1)
            .binop(BinaryOp::I32Add);
    });
    m.exports.add("run", run);
    m.emit_wasm()
}

/// Runs `script` in Node with `files` written to a fresh folder, whose path is its first
/// argument (`process.argv[1]`); what it printed.
fn node(files: &[(&str, &[u8])], script: &str) -> String {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let node = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/node");
    assert!(
        node.exists(),
        "{} is missing: run make setup",
        node.display()
    );
    let dir = std::env::temp_dir().join(format!(
        "beckon-wasm-split-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = Command::new(node)
        .arg("-e")
        .arg(script)
        .arg(&dir)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_two_parts_validate_and_compute_what_the_whole_did() {
    let keep: HashSet<String> = ["run", "c"].iter().map(|s| s.to_string()).collect();
    let parts = split(&sample(), &keep).unwrap();
    assert_eq!((parts.kept, parts.moved), (2, 2));
    wasmparser::Validator::new()
        .validate_all(&parts.primary)
        .unwrap();
    wasmparser::Validator::new()
        .validate_all(&parts.secondary)
        .unwrap();

    let script = r#"
        const fs = require("fs");
        const [p, s] = ["p.wasm", "s.wasm"].map((f) => fs.readFileSync(process.argv[1] + "/" + f));
        let primary, loads = 0;
        const hooks = { load() { loads++; new WebAssembly.Instance(new WebAssembly.Module(s), { primary: primary.exports }); } };
        primary = new WebAssembly.Instance(new WebAssembly.Module(p), { __split: hooks });
        const before = loads;
        const results = [primary.exports.run(3), primary.exports.run(4)];
        const stored = new Int32Array(primary.exports.memory.buffer)[0];
        console.log(JSON.stringify({ before, results, stored, loads }));
    "#;
    let out = node(
        &[("p.wasm", &parts.primary), ("s.wasm", &parts.secondary)],
        script,
    );
    // run(3) = (3+5)*2 + 3*3 + 1 = 26; run(4) = 18 + 12 + 1 = 31; the secondary linked once,
    // on the first call, not before.
    assert_eq!(
        out,
        r#"{"before":0,"results":[26,31],"stored":18,"loads":1}"#
    );
}

/// `wasm` through `wasm-opt -Oz`, as the build does.
fn optimised(wasm: &[u8]) -> Vec<u8> {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../node_modules/.bin/wasm-opt");
    let dir = std::env::temp_dir().join(format!("beckon-wasm-opt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output) = (
        dir.join(format!("{:p}.in", wasm)),
        dir.join(format!("{:p}.out", wasm)),
    );
    std::fs::write(&input, wasm).unwrap();
    let status = Command::new(bin)
        .arg("-Oz")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "wasm-opt failed");
    let out = std::fs::read(&output).unwrap();
    std::fs::remove_file(input).ok();
    std::fs::remove_file(output).ok();
    out
}

#[test]
fn a_secondary_of_another_build_or_keep_list_does_not_link_even_optimised() {
    let keep =
        |names: &[&str]| -> HashSet<String> { names.iter().map(|s| s.to_string()).collect() };
    let one = split(&sample(), &keep(&["run", "c"])).unwrap();
    let other_build = split(&sample_adding(6), &keep(&["run", "c"])).unwrap();
    let other_list = split(&sample(), &keep(&["run", "c", "d"])).unwrap();
    let script = r#"
        const fs = require("fs");
        const read = (f) => new WebAssembly.Module(fs.readFileSync(process.argv[1] + "/" + f));
        const primary = new WebAssembly.Instance(read("p.wasm"), { __split: { load() {} } });
        const link = (f) => { try { new WebAssembly.Instance(read(f), { primary: primary.exports }); return "linked"; } catch (e) { return e.constructor.name; } };
        console.log(["build.wasm", "list.wasm", "same.wasm"].map(link).join(" "));
    "#;
    let out = node(
        &[
            ("p.wasm", &optimised(&one.primary)),
            ("build.wasm", &optimised(&other_build.secondary)),
            ("list.wasm", &optimised(&other_list.secondary)),
            ("same.wasm", &optimised(&one.secondary)),
        ],
        script,
    );
    assert_eq!(out, "LinkError LinkError linked");
}

#[test]
fn the_profiling_build_reports_each_function_by_its_index_in_the_names_list() {
    let (wasm, names) = instrument(&sample()).unwrap();
    wasmparser::Validator::new().validate_all(&wasm).unwrap();
    let mut listed: Vec<&str> = names.lines().collect();
    listed.sort();
    assert_eq!(listed, ["b::double", "c", "d", "run"]);
    let script = r#"
        const hits = new Set();
        const bytes = require("fs").readFileSync(process.argv[1] + "/i.wasm");
        const i = new WebAssembly.Instance(new WebAssembly.Module(bytes), { __split: { hit: (n) => hits.add(n) } });
        i.exports.run(1);
        console.log([...hits].sort().join(","));
    "#;
    let out = node(&[("i.wasm", &wasm)], script);
    assert_eq!(out, "0,1,2,3");
}

#[test]
fn names_lose_only_what_changes_between_builds() {
    assert_eq!(
        normal_name("<yew[43cff6c5507b4e23]::Html as core[79aa79c6299ed9a6]::clone::Clone>::clone"),
        "<yew::Html as core::clone::Clone>::clone"
    );
    assert_eq!(normal_name("write_char[3]"), "write_char");
    assert_eq!(
        normal_name("beckon_client[c8c721d656dd6a5]::x"),
        "beckon_client::x"
    );
    assert_eq!(
        normal_name("<[f32] as Debug>::fmt"),
        "<[f32] as Debug>::fmt"
    );
    assert_eq!(normal_name("[bf16; 4]"), "[bf16; 4]");
    assert_eq!(normal_name("slice[..]"), "slice[..]");
    assert_eq!(normal_name("x[]"), "x[]");
    assert_eq!(normal_name("open[unclosed"), "open[unclosed");
}

#[test]
fn shorten_renames_the_glues_hashed_names_and_keeps_function_names() {
    let mut m = Module::default();
    let ty = m.types.add(&[], &[]);
    let (listen, _) = m.add_import_func("./app_bg.js", "__wbg_listen_847fd86b8c33ec43", ty);
    let (hook, _) = m.add_import_func("__split", "load", ty);
    let mut f = FunctionBuilder::new(&mut m.types, &[], &[]);
    f.name("app::run".to_owned());
    f.func_body().call(listen).call(hook);
    let run = f.finish(vec![], &mut m.funcs);
    m.exports.add("start", run);
    m.exports.add("wasm_bindgen_9f7a___closures__invoke", run);
    let (wasm, renamed) = shorten(&m.emit_wasm()).unwrap();
    wasmparser::Validator::new().validate_all(&wasm).unwrap();
    let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        renamed,
        [
            pair("./app_bg.js", "_"),
            pair("__wbg_listen_847fd86b8c33ec43", "_0"),
            pair("wasm_bindgen_9f7a___closures__invoke", "_1"),
        ]
    );
    let out = Module::from_buffer(&wasm).unwrap();
    let imports: Vec<_> = out
        .imports
        .iter()
        .map(|i| (i.module.as_str(), i.name.as_str()))
        .collect();
    assert_eq!(imports, [("_", "_0"), ("__split", "load")]);
    let mut exports: Vec<_> = out.exports.iter().map(|e| e.name.as_str()).collect();
    exports.sort();
    assert_eq!(exports, ["_1", "start"]);
    let names: Vec<_> = out.funcs.iter().filter_map(|f| f.name.as_deref()).collect();
    assert!(names.contains(&"app::run"), "{names:?}");
}
