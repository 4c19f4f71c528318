//! What a wasm app's code is made of: `wasm_parts <app.wasm> <label>=<pattern>[,<pattern>…] …`
//! prints, per label, the bytes of the function bodies whose demangled names contain one of
//! its patterns, and their share of all code (`top=<n>`: the n largest functions; `keep=<list>`
//! first: only the functions a split's keep list names, as in its first part). It reads the name section, which wasm-bindgen
//! keeps (run it on `build/wasm-bindgen/<app>/…_bg.wasm`, before `wasm-opt` strips names).

use std::collections::HashMap;
use wasmparser::{Imports, KnownCustom, Name, Parser, Payload, TypeRef};

/// `name` demangled, without crate disambiguators (`yew[ab39…]::html` → `yew::html`).
fn readable(name: &str) -> String {
    let s = format!("{:#}", rustc_demangle::demangle(name));
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(open) = rest.find('[') {
        let close = rest[open..].find(']').map(|c| open + c);
        match close {
            Some(c) if rest[open + 1..c].bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.push_str(&rest[..open]);
                rest = &rest[c + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_func(t: &TypeRef) -> bool {
    matches!(t, TypeRef::Func(_) | TypeRef::FuncExact(_))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: wasm_parts <app.wasm> <label>=<pattern>[,<pattern>…] …");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (mut imported, mut bodies, mut names) = (0u32, Vec::new(), HashMap::new());
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("a valid wasm module") {
            Payload::ImportSection(reader) => {
                for group in reader {
                    imported += match group.expect("imports") {
                        Imports::Single(_, i) => is_func(&i.ty) as u32,
                        Imports::Compact1 { items, .. } => items
                            .into_iter()
                            .filter(|i| i.as_ref().is_ok_and(|i| is_func(&i.ty)))
                            .count()
                            as u32,
                        Imports::Compact2 { ty, names, .. } => {
                            if is_func(&ty) {
                                names.count()
                            } else {
                                0
                            }
                        }
                    };
                }
            }
            Payload::CodeSectionEntry(body) => {
                bodies.push((body.range().end - body.range().start) as usize)
            }
            Payload::CustomSection(c) => {
                if let KnownCustom::Name(reader) = c.as_known() {
                    for sub in reader.into_iter().flatten() {
                        if let Name::Function(map) = sub {
                            for n in map.into_iter().flatten() {
                                names.insert(n.index, readable(n.name));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let keep: Option<std::collections::HashSet<String>> = args[1..]
        .iter()
        .find_map(|a| a.strip_prefix("keep="))
        .map(|file| {
            let list = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            list.lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::to_owned)
                .collect()
        });
    if let Some(keep) = &keep {
        for (i, len) in bodies.iter_mut().enumerate() {
            if !names
                .get(&(imported + i as u32))
                .is_some_and(|n| keep.contains(n))
            {
                *len = 0;
            }
        }
    }
    let total: usize = bodies.iter().sum();
    println!("{path}: {} functions, {total} B of code", bodies.len());
    for spec in args[1..].iter().filter(|a| !a.starts_with("keep=")) {
        if let Some(pattern) = spec.strip_prefix("show=") {
            for (i, len) in bodies.iter().enumerate() {
                let name = names
                    .get(&(imported + i as u32))
                    .map_or("?", String::as_str);
                if name.contains(pattern) {
                    println!("  {len:>7} B  {name}");
                }
            }
            continue;
        }
        if let Some(n) = spec.strip_prefix("top=") {
            let mut all: Vec<(usize, &str)> = bodies
                .iter()
                .enumerate()
                .map(|(i, len)| {
                    let name = names
                        .get(&(imported + i as u32))
                        .map_or("?", String::as_str);
                    (*len, name)
                })
                .collect();
            all.sort_unstable_by(|a, b| b.cmp(a));
            for (len, name) in all.iter().take(n.parse().unwrap_or(20)) {
                println!("  {len:>8} B  {name}");
            }
            continue;
        }
        let (label, patterns) = spec.split_once('=').unwrap_or((spec, spec));
        let patterns: Vec<&str> = patterns.split(',').collect();
        let bytes: usize = bodies
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                names
                    .get(&(imported + *i as u32))
                    .is_some_and(|n| patterns.iter().any(|p| n.contains(p)))
            })
            .map(|(_, len)| len)
            .sum();
        println!(
            "  {label:<28} {bytes:>8} B  {:>5.1} % of the code",
            100.0 * bytes as f64 / total.max(1) as f64
        );
    }
}
