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
//! - The link's names are short (`3kA`: a function by its index in base 62; `$g0`, `$t0`,
//!   `$m0`), and the mark's is `$build <hash>`; no wasm-bindgen export is named so.
//!
//! `shorten`, run first, renames wasm-bindgen's hashed import and export names for the glue.
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

/// [`shorten`]'s renames: (old name, new name), the import module first.
pub type Renames = Vec<(String, String)>;

/// The names wasm-bindgen gives the glue's imports (`__wbg_addEventListener_847fd86b8c33ec43`)
/// and the closures' exports (`wasm_bindgen_9f7a…___convert__closures_____invoke___…`) carry
/// a hash, which gzip cannot compress, twice: in the wasm and in the glue. `shorten` renames
/// them, and the import module (`./<lib>_bg.js`), to `_` + a number in base 36, and returns
/// the wasm (names section kept, for [`split`]) with the (old, new) pairs the glue is renamed
/// by (`build-wasm-app.sh`). Other exports keep their names: the glue's own code and the
/// split's loader call them.
pub fn shorten(bytes: &[u8]) -> Result<(Vec<u8>, Renames)> {
    let mut config = ModuleConfig::new();
    config
        .generate_name_section(true)
        .generate_producers_section(false);
    let mut module = config.parse(bytes).context("reading the wasm")?;
    let glue: BTreeSet<String> = module
        .imports
        .iter()
        .filter(|i| i.module.starts_with("./") && i.module.ends_with("_bg.js"))
        .map(|i| i.module.clone())
        .collect();
    let glue = match glue.len() {
        1 => glue.into_iter().next().expect("one module"),
        n => bail!("expected the imports of one wasm-bindgen glue module, found {n}"),
    };
    let mut renamed = vec![(glue.clone(), "_".to_owned())];
    let mut next = 0;
    let mut fresh = |old: &str, renamed: &mut Renames| {
        let new = short('_', next);
        next += 1;
        renamed.push((old.to_owned(), new.clone()));
        new
    };
    let imports: Vec<_> = module.imports.iter().map(|i| i.id()).collect();
    for id in imports {
        let import = module.imports.get_mut(id);
        if import.module == glue {
            import.module = "_".to_owned();
            import.name = fresh(&import.name, &mut renamed);
        }
    }
    let exports: Vec<_> = module.exports.iter().map(|e| e.id()).collect();
    for id in exports {
        let export = module.exports.get_mut(id);
        if export.name.starts_with("wasm_bindgen_") || export.name.starts_with("__wbg_") {
            export.name = fresh(&export.name, &mut renamed);
        }
    }
    Ok((module.emit_wasm(), renamed))
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

/// The names the primary exports and the secondary imports: a function's index in base 62
/// (no wasm-bindgen export is named so: theirs start with `_` or are words), `$g`, `$t`, `$m`
/// and an index for globals, tables and memories. (~500 B gzip less than `f` + base 36.)
fn link_name(kind: char, index: usize) -> String {
    const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if kind != 'f' {
        return format!("${kind}{index}");
    }
    let mut digits = Vec::new();
    let mut n = index;
    loop {
        digits.push(DIGITS[n % 62]);
        n /= 62;
        if n == 0 {
            break;
        }
    }
    digits.reverse();
    String::from_utf8(digits).expect("ASCII digits")
}

/// `_` + a number in base 36, for [`shorten`]'s names.
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

/// What moves and how the two parts meet, decided once on the input. Functions are named by
/// index: the two parses' ids differ (each has its own arenas), their indices do not.
struct Plan {
    /// The moved functions, in the order of their table slots.
    moved: Vec<usize>,
    /// The functions that stay (or are imported) that moved ones call.
    called: BTreeSet<usize>,
    kept: usize,
    unmatched: usize,
    /// The funcref table's position among the tables, and its first slot for moved functions.
    table: usize,
    base: u64,
    /// How many globals the input has: the primary's loaded flag comes after them.
    globals: usize,
    /// The build's mark (export name and value).
    mark: String,
    mark_value: i32,
}

fn plan(module: &Module, bytes: &[u8], keep: &HashSet<String>) -> Result<Plan> {
    if module.start.is_some() {
        bail!("the module has a start function: a stub it reached could not load the secondary");
    }
    let index_of: HashMap<FunctionId, usize> = module
        .funcs
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id(), i))
        .collect();
    let names = local_names(module);
    let present: HashSet<&str> = names.iter().map(|(_, n)| n.as_str()).collect();
    let unmatched = keep
        .iter()
        .filter(|n| !present.contains(n.as_str()))
        .count();
    let (mut moved, mut kept, mut called) = (Vec::new(), 0, BTreeSet::new());
    for (id, name) in &names {
        let local = module.funcs.get(*id).kind.unwrap_local();
        let refs = refs_of(local);
        // An unnamed function cannot be in the list: it stays.
        if name.is_empty()
            || keep.contains(name)
            || refs.pinned
            || instr_count(local) < SMALLEST_MOVED
        {
            kept += 1;
            continue;
        }
        moved.push(index_of[id]);
        called.extend(refs.funcs.iter().map(|f| index_of[f]));
    }
    let moved_set: HashSet<usize> = moved.iter().copied().collect();
    called.retain(|f| !moved_set.contains(f));
    // The build's mark: the input and what moved (the same code split by another keep list
    // puts other functions in other slots). Never 0: the secondary's start sets it as its
    // loaded flag, which wasm-opt cannot drop, so neither the import nor the check goes.
    let (mark, mark_value) = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        moved.iter().for_each(|i| i.hash(&mut h));
        let h = h.finish();
        (format!("$build {h:016x}"), (h as i32) | 1)
    };
    let funcref = funcref_table(module)?;
    Ok(Plan {
        moved,
        called,
        kept,
        unmatched,
        table: module
            .tables
            .iter()
            .position(|t| t.id() == funcref)
            .context("the funcref table")?,
        base: module.tables.get(funcref).initial,
        globals: module.globals.iter().count(),
        mark,
        mark_value,
    })
}

/// Grows table `t` by `n` slots (its minimum, and its maximum if it has one).
fn grow(module: &mut Module, t: TableId, n: usize) {
    let t = module.tables.get_mut(t);
    t.initial += n as u64;
    if let Some(max) = t.maximum.as_mut() {
        *max += n as u64;
    }
}

/// The primary: a table slot per moved function, their stubs, the `load` hook, and exports
/// for the secondary (what it calls, every global, table and memory, and the build's mark).
fn make_primary(module: &mut Module, plan: &Plan) -> Result<()> {
    let funcs: Vec<FunctionId> = module.funcs.iter().map(|f| f.id()).collect();
    let table = funcref_table(module)?;
    grow(module, table, plan.moved.len());
    let loaded = module.globals.add_local(
        ValType::I32,
        true,
        false,
        ConstExpr::Value(ir::Value::I32(0)),
    );
    let load_ty = module.types.add(&[], &[]);
    let (load, _) = module.add_import_func(HOOKS, "load", load_ty);
    for (slot, &index) in plan.moved.iter().enumerate() {
        let id = funcs[index];
        let ty = module.funcs.get(id).ty();
        let (params, results) = {
            let t = module.types.get(ty);
            (t.params().to_vec(), t.results().to_vec())
        };
        let args: Vec<_> = params.iter().map(|p| module.locals.add(*p)).collect();
        let mut builder = FunctionBuilder::new(&mut module.types, &params, &results);
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
        body.i32_const((plan.base + slot as u64) as i32)
            .call_indirect(ty, table);
        module.funcs.get_mut(id).kind = FunctionKind::Local(builder.local_func(args));
    }
    for &f in &plan.called {
        module.exports.add(&link_name('f', f), funcs[f]);
    }
    let globals: Vec<_> = module.globals.iter().map(|g| g.id()).collect();
    for (i, g) in globals.iter().enumerate() {
        module.exports.add(&link_name('g', i), *g);
    }
    let build = module.globals.add_local(
        ValType::I32,
        false,
        false,
        ConstExpr::Value(ir::Value::I32(plan.mark_value)),
    );
    module.exports.add(&plan.mark, build);
    let tables: Vec<_> = module.tables.iter().map(|t| t.id()).collect();
    for (i, t) in tables.iter().enumerate() {
        module.exports.add(&link_name('t', i), *t);
    }
    let memories: Vec<_> = module.memories.iter().map(|m| m.id()).collect();
    for (i, m) in memories.iter().enumerate() {
        module.exports.add(&link_name('m', i), *m);
    }
    let mut names = HashSet::new();
    if let Some(e) = module
        .exports
        .iter()
        .find(|e| !names.insert(e.name.as_str()))
    {
        bail!(
            "two exports are named {:?} (a link name took a wasm-bindgen name)",
            e.name
        );
    }
    walrus::passes::gc::run(module);
    Ok(())
}

/// The secondary: the same module with everything but the moved functions imported from the
/// primary, no segments of its own but the moved functions' slots, and a start that sets the
/// loaded flag from the build's mark.
fn make_secondary(module: &mut Module, plan: &Plan) {
    let exports: Vec<_> = module.exports.iter().map(|e| e.id()).collect();
    for e in exports {
        module.exports.delete(e);
    }
    module.start = None;
    let moved: HashSet<usize> = plan.moved.iter().copied().collect();
    let funcs: Vec<FunctionId> = module.funcs.iter().map(|f| f.id()).collect();
    for (index, &id) in funcs.iter().enumerate() {
        if moved.contains(&index) {
            continue;
        }
        let name = link_name('f', index);
        let ty = module.funcs.get(id).ty();
        match &module.funcs.get(id).kind {
            FunctionKind::Import(imported) => {
                let import = module.imports.get_mut(imported.import);
                import.module = PRIMARY.to_owned();
                import.name = name;
            }
            _ => {
                let import = module.imports.add(PRIMARY, &name, ImportKind::Function(id));
                module.funcs.get_mut(id).kind =
                    FunctionKind::Import(ImportedFunction { import, ty });
            }
        }
    }
    let globals: Vec<_> = module.globals.iter().map(|g| g.id()).collect();
    for (i, g) in globals.iter().enumerate() {
        if let GlobalKind::Import(import) = module.globals.get(*g).kind {
            module.imports.delete(import);
        }
        let import = module
            .imports
            .add(PRIMARY, &link_name('g', i), ImportKind::Global(*g));
        module.globals.get_mut(*g).kind = GlobalKind::Import(import);
    }
    let data: Vec<_> = module.data.iter().map(|d| d.id()).collect();
    for d in data {
        module.data.delete(d);
    }
    let memories: Vec<_> = module.memories.iter().map(|m| m.id()).collect();
    for (i, m) in memories.iter().enumerate() {
        if let Some(old) = module.memories.get(*m).import {
            module.imports.delete(old);
        }
        let import = module
            .imports
            .add(PRIMARY, &link_name('m', i), ImportKind::Memory(*m));
        let memory = module.memories.get_mut(*m);
        memory.import = Some(import);
        memory.data_segments.clear();
    }
    let elements: Vec<_> = module.elements.iter().map(|e| e.id()).collect();
    for e in elements {
        module.elements.delete(e);
    }
    let tables: Vec<_> = module.tables.iter().map(|t| t.id()).collect();
    for (i, t) in tables.iter().enumerate() {
        if let Some(old) = module.tables.get(*t).import {
            module.imports.delete(old);
        }
        let import = module
            .imports
            .add(PRIMARY, &link_name('t', i), ImportKind::Table(*t));
        let table = module.tables.get_mut(*t);
        table.import = Some(import);
        table.elem_segments.clear();
    }
    let table = tables[plan.table];
    grow(module, table, plan.moved.len());
    let segment = module.elements.add(
        ElementKind::Active {
            table,
            offset: ConstExpr::Value(ir::Value::I32(plan.base as i32)),
        },
        ElementItems::Functions(plan.moved.iter().map(|&i| funcs[i]).collect()),
    );
    module.tables.get_mut(table).elem_segments.insert(segment);
    let (build, _) = module.add_import_global(PRIMARY, &plan.mark, ValType::I32, false, false);
    let (loaded, _) = module.add_import_global(
        PRIMARY,
        &link_name('g', plan.globals),
        ValType::I32,
        true,
        false,
    );
    let mut start = FunctionBuilder::new(&mut module.types, &[], &[]);
    // The loaded flag set from the mark: its import stays through gc and wasm-opt, so linking
    // checks the build.
    start.func_body().global_get(build).global_set(loaded);
    module.start = Some(start.finish(vec![], &mut module.funcs));
    walrus::passes::gc::run(module);
}

/// Splits `bytes`, keeping in the primary the functions whose normal names are in `keep`.
pub fn split(bytes: &[u8], keep: &HashSet<String>) -> Result<Split> {
    let mut primary = parse(bytes)?;
    let mut secondary = parse(bytes)?;
    let plan = plan(&primary, bytes, keep)?;
    make_primary(&mut primary, &plan)?;
    make_secondary(&mut secondary, &plan);
    Ok(Split {
        primary: primary.emit_wasm(),
        secondary: secondary.emit_wasm(),
        kept: plan.kept,
        moved: plan.moved.len(),
        unmatched: plan.unmatched,
    })
}
