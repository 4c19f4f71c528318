//! `beckon-wasm-split split <in.wasm> <keep.txt> <primary.wasm> <secondary.wasm>`
//! `beckon-wasm-split instrument <in.wasm> <out.wasm> <names.txt>`
//! `beckon-wasm-split shorten <in.wasm> <out.wasm> <renames.tsv>` (old and new name per line)
//! (see the library's docs; `scripts/build-wasm-app.sh` runs it).

use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::fs;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["split", input, keep, primary, secondary] => {
            let bytes = fs::read(input).with_context(|| format!("reading {input}"))?;
            let keep_file = keep;
            let keep: HashSet<String> = fs::read_to_string(keep)
                .with_context(|| format!("reading {keep}"))?
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect();
            let split = beckon_wasm_split::split(&bytes, &keep)?;
            fs::write(primary, &split.primary).with_context(|| format!("writing {primary}"))?;
            fs::write(secondary, &split.secondary)
                .with_context(|| format!("writing {secondary}"))?;
            println!(
                "split: {} functions kept, {} moved; {} B + {} B before wasm-opt",
                split.kept,
                split.moved,
                split.primary.len(),
                split.secondary.len()
            );
            if split.unmatched > 0 {
                println!(
                    "split: {} names of {keep_file} matched no function (after changing what a usual \
                     session runs, run make split-profile)",
                    split.unmatched
                );
            }
        }
        ["instrument", input, output, names] => {
            let bytes = fs::read(input).with_context(|| format!("reading {input}"))?;
            let (wasm, list) = beckon_wasm_split::instrument(&bytes)?;
            fs::write(output, wasm).with_context(|| format!("writing {output}"))?;
            fs::write(names, list).with_context(|| format!("writing {names}"))?;
        }
        ["shorten", input, output, renames] => {
            let bytes = fs::read(input).with_context(|| format!("reading {input}"))?;
            let (wasm, pairs) = beckon_wasm_split::shorten(&bytes)?;
            fs::write(output, wasm).with_context(|| format!("writing {output}"))?;
            let lines: String = pairs.iter().map(|(o, n)| format!("{o}\t{n}\n")).collect();
            fs::write(renames, lines).with_context(|| format!("writing {renames}"))?;
        }
        _ => bail!(
            "usage: beckon-wasm-split split <in.wasm> <keep.txt> <primary.wasm> <secondary.wasm>\n\
             \x20      beckon-wasm-split instrument <in.wasm> <out.wasm> <names.txt>\n\
             \x20      beckon-wasm-split shorten <in.wasm> <out.wasm> <renames.tsv>"
        ),
    }
    Ok(())
}
