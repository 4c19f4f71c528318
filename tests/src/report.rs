//! The `make bench` report: sections of tables, printed as markdown and written to
//! `target/bench/report.md` with the same figures as JSON in `target/bench/report.json`.

use serde::Serialize;
use serde_json::Value;

#[derive(Default, Serialize)]
pub struct Report {
    pub title: String,
    pub notes: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Serialize)]
pub struct Section {
    pub title: String,
    pub text: Vec<String>,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The raw figures behind the table.
    pub data: Value,
}

impl Section {
    pub fn new(title: &str, columns: &[&str]) -> Section {
        Section {
            title: title.into(),
            text: Vec::new(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            data: Value::Null,
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.text.push(text.into());
    }
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title);
        for n in &self.notes {
            out.push_str(&format!("{n}\n"));
        }
        for s in &self.sections {
            out.push_str(&format!("\n## {}\n\n", s.title));
            for t in &s.text {
                out.push_str(&format!("{t}\n\n"));
            }
            if !s.columns.is_empty() {
                out.push_str(&format!("| {} |\n", s.columns.join(" | ")));
                out.push_str(&format!("|{}\n", "---|".repeat(s.columns.len())));
                for r in &s.rows {
                    out.push_str(&format!("| {} |\n", r.join(" | ")));
                }
            }
        }
        out
    }

    /// Prints the report and writes it (markdown and JSON) under `target/bench/`.
    pub fn publish(&self) {
        let md = self.markdown();
        println!("\n{md}");
        let dir = crate::repo_root().join("target/bench");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("report.md"), &md);
        let _ = std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(self).unwrap_or_default(),
        );
        eprintln!("written: {}", dir.join("report.md").display());
    }
}

/// `12.3` (one decimal) for milliseconds and rates.
pub fn f1(x: f64) -> String {
    format!("{x:.1}")
}

/// The median of each field across runs (of an even number, the mean of the middle two).
pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mid = xs.len() / 2;
    match xs.len() % 2 {
        1 => xs[mid],
        _ => (xs[mid - 1] + xs[mid]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_an_even_count_is_between_its_middle_two() {
        assert_eq!(median(vec![]), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![1.0, 9.0]), 5.0);
    }
}
