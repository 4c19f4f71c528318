//! Splits a browser app's wasm (after wasm-bindgen, before wasm-opt, names kept) in two: the
//! **primary** module holds the functions a usual session runs, named in a keep list recorded
//! from an instrumented build; the **secondary** holds every other function and is loaded the
//! first time one of them is called (or earlier, in the background: `load.js`).
//!
//! How the two fit together:
//! - In the primary, a moved function keeps its index, so every call, export and table entry
//!   still reaches it; its body becomes a stub: load the secondary if it is not loaded yet
//!   (the `__split.load` import), then `call_indirect` through a table slot of its own.
//! - The secondary imports the primary's memory, tables and globals, and each function it
//!   calls that stayed in the primary (exported under a short name). Its active element
//!   segment fills the moved functions' slots, and its start function marks it loaded.
//! - Functions that touch data or element segments by index, take a function's reference,
//!   make tail calls or use exceptions stay in the primary (the secondary carries no segments
//!   of the original), as do unnamed ones and those smaller than a stub costs. A module with
//!   a start function is refused (the glue could not answer a load during instantiation).
//! - The primary exports a mark of the build both came from (the input and what moved), which
//!   the secondary imports: a secondary of another build or keep list fails to link instead
//!   of running with wrong addresses or slots.
//! - Names added for the link start with `$`, which no wasm-bindgen export does.
//!
//! `instrument` makes the profiling build: every function first calls `__split.hit(index)`,
//! and the index → name list is written beside it.

use anyhow::{bail, Context, Result};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use walrus::ir::{self, Instr, Visitor};
use walrus::{
    ConstExpr, ElementItems, ElementKind, FunctionBuilder, FunctionId, FunctionKind, GlobalKind,
    ImportKind, ImportedFunction, InstrSeqBuilder, LocalFunction, Module, ModuleConfig, RefType,
    TableId, ValType,
};

/// The import module of the hooks this tool adds (`load` in a split build, `hit` when
/// instrumented); the app's JS glue provides it (`load.js`).
pub const HOOKS: &str = "__split";
/// The import module under which the secondary finds the primary's exports.
pub const PRIMARY: &str = "primary";

/// A function's name without what changes from build to build: the crate disambiguators
/// rustc prints in brackets (`yew[43cff6c5507b4e23]::…`, 8 hex digits or more) and the `[n]`
/// suffixes of duplicates.
pub fn normal_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let inside = after.find(']').map(|close| &after[..close]);
        let drop = inside.is_some_and(|t| {
            let decimal = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
            let hash = t.len() >= 8 && t.bytes().all(|b| b.is_ascii_hexdigit());
            decimal || hash
        });
        match inside {
            Some(t) if drop => rest = &after[t.len() + 1..],
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse(bytes: &[u8]) -> Result<Module> {
    let mut config = ModuleConfig::new();
    // BECKON_SPLIT_NAMES=1 keeps the names section (stack traces with names, for debugging).
    config
        .generate_name_section(std::env::var_os("BECKON_SPLIT_NAMES").is_some())
        .generate_producers_section(false);
    config.parse(bytes).context("reading the wasm")
}

/// The names of the module's own (not imported) functions, in index order.
fn local_names(module: &Module) -> Vec<(FunctionId, String)> {
    module
        .funcs
        .iter()
        .filter(|f| matches!(f.kind, FunctionKind::Local(_)))
        .map(|f| (f.id(), normal_name(f.name.as_deref().unwrap_or(""))))
        .collect()
}

/// The profiling build: returns the instrumented wasm and its functions' names, one per line
/// in the order of the indices `hit` receives.
pub fn instrument(bytes: &[u8]) -> Result<(Vec<u8>, String)> {
    let mut module = parse(bytes)?;
    let hit_ty = module.types.add(&[ValType::I32], &[]);
    let (hit, _) = module.add_import_func(HOOKS, "hit", hit_ty);
    let names = local_names(&module);
    for (index, (id, _)) in names.iter().enumerate() {
        let local = module.funcs.get_mut(*id).kind.unwrap_local_mut();
        let mut body = local.builder_mut().func_body();
        body.instr_at(
            0,
            ir::Const {
                value: ir::Value::I32(index as i32),
            },
        );
        body.instr_at(1, ir::Call { func: hit });
    }
    let lines: String = names.iter().map(|(_, n)| format!("{n}\n")).collect();
    Ok((module.emit_wasm(), lines))
}

/// What a split produced, with figures for the build log.
pub struct Split {
    pub primary: Vec<u8>,
    pub secondary: Vec<u8>,
    pub kept: usize,
    pub moved: usize,
    /// Names in the keep list that no function has: many mean the list is stale.
    pub unmatched: usize,
}

/// What a function's body refers to, for deciding whether it may move and what the secondary
/// must import.
#[derive(Default)]
struct Refs {
    funcs: BTreeSet<FunctionId>,
    pinned: bool,
}

impl<'a> Visitor<'a> for Refs {
    fn visit_instr(&mut self, instr: &'a Instr, _: &'a ir::InstrLocId) {
        // Segment indices and function references do not carry over to the secondary.
        if matches!(
            instr,
            Instr::MemoryInit(_)
                | Instr::DataDrop(_)
                | Instr::TableInit(_)
                | Instr::ElemDrop(_)
                | Instr::RefFunc(_)
                | Instr::ReturnCall(_)
                | Instr::ReturnCallIndirect(_)
                | Instr::ReturnCallRef(_)
                | Instr::Try(_)
                | Instr::TryTable(_)
                | Instr::Throw(_)
                | Instr::ThrowRef(_)
                | Instr::Rethrow(_)
        ) {
            self.pinned = true;
        }
    }
    fn visit_function_id(&mut self, f: &FunctionId) {
        self.funcs.insert(*f);
    }
}

fn refs_of(local: &LocalFunction) -> Refs {
    let mut refs = Refs::default();
    ir::dfs_in_order(&mut refs, local, local.entry_block());
    refs
}

/// A function this small saves less than it costs moved: a stub (~17 B), an export from the
/// primary and an import into the secondary (~16 B). Small helpers are also the ones most
/// likely to be reached by a path the profile did not take.
const SMALLEST_MOVED: usize = 10;

fn instr_count(local: &LocalFunction) -> usize {
    struct Count(usize);
    impl<'a> Visitor<'a> for Count {
        fn visit_instr(&mut self, _: &'a Instr, _: &'a ir::InstrLocId) {
            self.0 += 1;
        }
    }
    let mut count = Count(0);
    ir::dfs_in_order(&mut count, local, local.entry_block());
    count.0
}

/// Short export names for what the secondary imports: `$f` + the function's index in base 36
/// (`$g`, `$t`, `$m` for globals, tables and memories).
fn short(prefix: char, index: usize) -> String {
    let mut digits = Vec::new();
    let mut n = index;
    loop {
        digits.push(char::from_digit((n % 36) as u32, 36).expect("a base-36 digit"));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    std::iter::once(prefix)
        .chain(digits.into_iter().rev())
        .collect()
}

fn funcref_table(module: &Module) -> Result<TableId> {
    let mut tables = module
        .tables
        .iter()
        .filter(|t| t.element_ty == RefType::FUNCREF && !t.table64);
    match (tables.next(), tables.next()) {
        (Some(t), None) => Ok(t.id()),
        _ => bail!("expected exactly one 32-bit funcref table"),
    }
}

/// Splits `bytes`, keeping in the primary the functions whose normal names are in `keep`.
pub fn split(bytes: &[u8], keep: &HashSet<String>) -> Result<Split> {
    let mut primary = parse(bytes)?;
    let mut secondary = parse(bytes)?;
    if primary.start.is_some() {
        bail!("the module has a start function: a stub it reached could not load the secondary");
    }
    let index_of: HashMap<FunctionId, usize> = primary
        .funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id(), i))
        .collect();

    // Which functions move, and what the moved ones call that stays.
    let mut moved = Vec::new();
    let mut kept = 0;
    let mut called = BTreeSet::new();
    let names = local_names(&primary);
    let present: HashSet<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
    let unmatched = keep
        .iter()
        .filter(|n| !present.contains(n.as_str()))
        .count();
    for (id, name) in names.iter().cloned() {
        let local = primary.funcs.get(id).kind.unwrap_local();
        let refs = refs_of(local);
        // An unnamed function cannot be in the list: it stays.
        if name.is_empty()
            || keep.contains(&name)
            || refs.pinned
            || instr_count(local) < SMALLEST_MOVED
        {
            kept += 1;
            continue;
        }
        moved.push(id);
        called.extend(refs.funcs);
    }
    let moved_set: HashSet<FunctionId> = moved.iter().copied().collect();
    called.retain(|f| !moved_set.contains(f));
    // Ids differ between the two parses (each has its own arenas); indices do not.
    let moved_indices: HashSet<usize> = moved.iter().map(|f| index_of[f]).collect();
    // The build's mark: the input and what moved (the same code split by another keep list
    // puts other functions in other slots). Never 0: the secondary's start sets it as its
    // loaded flag, which wasm-opt cannot drop, so neither the import nor the check goes.
    let (mark, mark_value) = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        moved
            .iter()
            .map(|f| index_of[f])
            .for_each(|i| i.hash(&mut h));
        let h = h.finish();
        (format!("$build {h:016x}"), (h as i32) | 1)
    };

    // The primary: a table slot per moved function, stubs, the hooks, and exports for the
    // secondary.
    let table = funcref_table(&primary)?;
    let base = {
        let t = primary.tables.get_mut(table);
        let base = t.initial;
        t.initial += moved.len() as u64;
        if let Some(max) = t.maximum.as_mut() {
            *max += moved.len() as u64;
        }
        base
    };
    let loaded = primary.globals.add_local(
        ValType::I32,
        true,
        false,
        ConstExpr::Value(ir::Value::I32(0)),
    );
    let load_ty = primary.types.add(&[], &[]);
    let (load, _) = primary.add_import_func(HOOKS, "load", load_ty);
    for (slot, &id) in moved.iter().enumerate() {
        let ty = primary.funcs.get(id).ty();
        let (params, results) = {
            let t = primary.types.get(ty);
            (t.params().to_vec(), t.results().to_vec())
        };
        let args: Vec<_> = params.iter().map(|p| primary.locals.add(*p)).collect();
        let mut builder = FunctionBuilder::new(&mut primary.types, &params, &results);
        let mut body = builder.func_body();
        body.global_get(loaded).unop(ir::UnaryOp::I32Eqz).if_else(
            None,
            |then: &mut InstrSeqBuilder| {
                then.call(load);
            },
            |_| {},
        );
        for a in &args {
            body.local_get(*a);
        }
        body.i32_const((base + slot as u64) as i32)
            .call_indirect(ty, table);
        primary.funcs.get_mut(id).kind = FunctionKind::Local(builder.local_func(args));
    }
    for &f in &called {
        primary.exports.add(&short('f', index_of[&f]), f);
    }
    let globals: Vec<_> = primary.globals.iter().map(|g| g.id()).collect();
    for (i, g) in globals.iter().enumerate() {
        primary.exports.add(&short('g', i), *g);
    }
    let loaded_index = globals
        .iter()
        .position(|g| *g == loaded)
        .context("the loaded flag")?;
    let build = primary.globals.add_local(
        ValType::I32,
        false,
        false,
        ConstExpr::Value(ir::Value::I32(mark_value)),
    );
    primary.exports.add(&mark, build);
    let tables: Vec<_> = primary.tables.iter().map(|t| t.id()).collect();
    for (i, t) in tables.iter().enumerate() {
        primary.exports.add(&short('t', i), *t);
    }
    let memories: Vec<_> = primary.memories.iter().map(|m| m.id()).collect();
    for (i, m) in memories.iter().enumerate() {
        primary.exports.add(&short('m', i), *m);
    }
    walrus::passes::gc::run(&mut primary);

    // The secondary: the same module with everything but the moved functions imported from
    // the primary, no segments of its own but the moved functions' slots, and a start that
    // marks it loaded.
    let exports: Vec<_> = secondary.exports.iter().map(|e| e.id()).collect();
    for e in exports {
        secondary.exports.delete(e);
    }
    secondary.start = None;
    let funcs: Vec<_> = secondary.funcs.iter().map(|f| f.id()).collect();
    for (index, &id) in funcs.iter().enumerate() {
        if moved_indices.contains(&index) {
            continue;
        }
        let name = short('f', index);
        let ty = secondary.funcs.get(id).ty();
        match &secondary.funcs.get(id).kind {
            FunctionKind::Import(imported) => {
                let import = secondary.imports.get_mut(imported.import);
                import.module = PRIMARY.to_owned();
                import.name = name;
            }
            _ => {
                let import = secondary
                    .imports
                    .add(PRIMARY, &name, ImportKind::Function(id));
                secondary.funcs.get_mut(id).kind =
                    FunctionKind::Import(ImportedFunction { import, ty });
            }
        }
    }
    let globals: Vec<_> = secondary.globals.iter().map(|g| g.id()).collect();
    for (i, g) in globals.iter().enumerate() {
        if let GlobalKind::Import(import) = secondary.globals.get(*g).kind {
            secondary.imports.delete(import);
        }
        let import = secondary
            .imports
            .add(PRIMARY, &short('g', i), ImportKind::Global(*g));
        secondary.globals.get_mut(*g).kind = GlobalKind::Import(import);
    }
    let data: Vec<_> = secondary.data.iter().map(|d| d.id()).collect();
    for d in data {
        secondary.data.delete(d);
    }
    let memories: Vec<_> = secondary.memories.iter().map(|m| m.id()).collect();
    for (i, m) in memories.iter().enumerate() {
        let old = secondary.memories.get(*m).import;
        if let Some(old) = old {
            secondary.imports.delete(old);
        }
        let import = secondary
            .imports
            .add(PRIMARY, &short('m', i), ImportKind::Memory(*m));
        let memory = secondary.memories.get_mut(*m);
        memory.import = Some(import);
        memory.data_segments.clear();
    }
    let elements: Vec<_> = secondary.elements.iter().map(|e| e.id()).collect();
    for e in elements {
        secondary.elements.delete(e);
    }
    let tables: Vec<_> = secondary.tables.iter().map(|t| t.id()).collect();
    for (i, t) in tables.iter().enumerate() {
        let old = secondary.tables.get(*t).import;
        if let Some(old) = old {
            secondary.imports.delete(old);
        }
        let import = secondary
            .imports
            .add(PRIMARY, &short('t', i), ImportKind::Table(*t));
        let table = secondary.tables.get_mut(*t);
        table.import = Some(import);
        table.elem_segments.clear();
    }
    let secondary_table = tables[primary_table_position(&primary, table)?];
    {
        let t = secondary.tables.get_mut(secondary_table);
        t.initial += moved.len() as u64;
        if let Some(max) = t.maximum.as_mut() {
            *max += moved.len() as u64;
        }
    }
    let segment = secondary.elements.add(
        ElementKind::Active {
            table: secondary_table,
            offset: ConstExpr::Value(ir::Value::I32(base as i32)),
        },
        ElementItems::Functions(moved.iter().map(|f| funcs[index_of[f]]).collect()),
    );
    secondary
        .tables
        .get_mut(secondary_table)
        .elem_segments
        .insert(segment);
    let (build_here, _) = secondary.add_import_global(PRIMARY, &mark, ValType::I32, false, false);
    let (loaded_here, _) = secondary.add_import_global(
        PRIMARY,
        &short('g', loaded_index),
        ValType::I32,
        true,
        false,
    );
    let mut start = FunctionBuilder::new(&mut secondary.types, &[], &[]);
    // The loaded flag set from the mark: its import stays through gc and wasm-opt, so linking
    // checks the build.
    start
        .func_body()
        .global_get(build_here)
        .global_set(loaded_here);
    secondary.start = Some(start.finish(vec![], &mut secondary.funcs));
    walrus::passes::gc::run(&mut secondary);

    Ok(Split {
        primary: primary.emit_wasm(),
        secondary: secondary.emit_wasm(),
        kept,
        moved: moved.len(),
        unmatched,
    })
}

/// The position of `table` among the primary's tables (the secondary's are in the same
/// order: both modules come from the same bytes).
fn primary_table_position(primary: &Module, table: TableId) -> Result<usize> {
    primary
        .tables
        .iter()
        .position(|t| t.id() == table)
        .context("the funcref table")
}
