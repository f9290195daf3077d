//! Rows to a polars [`DataFrame`], one typed column builder per column:
//! strings go into one buffer per column (no allocation per cell).

use polars::prelude::*;

/// A column's type in the event tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    U32,
    U64,
    I32,
    F64,
    Bool,
    /// Milliseconds of the server's wall clock, as a timestamp without zone.
    Time,
}

enum Builder {
    Str(StringChunkedBuilder),
    U32(Vec<Option<u32>>),
    U64(Vec<Option<u64>>),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Time(Vec<Option<i64>>),
}

impl Builder {
    fn new(name: &str, kind: Kind, capacity: usize) -> Builder {
        match kind {
            Kind::Str => Builder::Str(StringChunkedBuilder::new(name.into(), capacity)),
            Kind::U32 => Builder::U32(Vec::with_capacity(capacity)),
            Kind::U64 => Builder::U64(Vec::with_capacity(capacity)),
            Kind::I32 => Builder::I32(Vec::with_capacity(capacity)),
            Kind::F64 => Builder::F64(Vec::with_capacity(capacity)),
            Kind::Bool => Builder::Bool(Vec::with_capacity(capacity)),
            Kind::Time => Builder::Time(Vec::with_capacity(capacity)),
        }
    }

    fn finish(self, name: &str) -> Column {
        let name: PlSmallStr = name.into();
        match self {
            Builder::Str(b) => b.finish().into_series().into_column(),
            Builder::U32(v) => Column::new(name, v),
            Builder::U64(v) => Column::new(name, v),
            Builder::I32(v) => Column::new(name, v),
            Builder::F64(v) => Column::new(name, v),
            Builder::Bool(v) => Column::new(name, v),
            Builder::Time(v) => Int64Chunked::from_iter_options(name, v.into_iter())
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_series()
                .into_column(),
        }
    }
}

/// A table's columns: names and kinds, in order.
pub type Schema = &'static [(&'static str, Kind)];

/// Rows of one table under construction. Cells are pushed in column order
/// through a [`Row`].
pub struct Batch {
    schema: Schema,
    builders: Vec<Builder>,
    rows: usize,
    capacity: usize,
}

impl Batch {
    pub fn new(schema: Schema, capacity: usize) -> Batch {
        Batch {
            schema,
            builders: schema
                .iter()
                .map(|(n, k)| Builder::new(n, *k, capacity))
                .collect(),
            rows: 0,
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn schema(&self) -> Schema {
        self.schema
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Starts a row; every column must then get one cell, in order.
    pub fn row(&mut self) -> Row<'_> {
        self.rows += 1;
        Row {
            batch: self,
            col: 0,
        }
    }

    /// The rows so far as a frame; the batch is empty again.
    pub fn take(&mut self) -> PolarsResult<DataFrame> {
        let fresh = Batch::new(self.schema, self.capacity);
        let old = std::mem::replace(self, fresh);
        let columns: Vec<Column> = old
            .builders
            .into_iter()
            .zip(old.schema)
            .map(|(b, (n, _))| b.finish(n))
            .collect();
        DataFrame::new(old.rows, columns)
    }
}

/// One row being filled, column by column.
pub struct Row<'a> {
    batch: &'a mut Batch,
    col: usize,
}

impl Row<'_> {
    fn next(&mut self) -> &mut Builder {
        let b = &mut self.batch.builders[self.col];
        self.col += 1;
        b
    }

    pub fn str(mut self, v: Option<&str>) -> Self {
        match self.next() {
            Builder::Str(b) => b.append_option(v),
            _ => unreachable!("column {} is not text", self.col - 1),
        }
        self
    }

    pub fn u32(mut self, v: Option<u32>) -> Self {
        match self.next() {
            Builder::U32(b) => b.push(v),
            _ => unreachable!("column {} is not u32", self.col - 1),
        }
        self
    }

    pub fn u64(mut self, v: Option<u64>) -> Self {
        match self.next() {
            Builder::U64(b) => b.push(v),
            _ => unreachable!("column {} is not u64", self.col - 1),
        }
        self
    }

    pub fn i32(mut self, v: Option<i32>) -> Self {
        match self.next() {
            Builder::I32(b) => b.push(v),
            _ => unreachable!("column {} is not i32", self.col - 1),
        }
        self
    }

    pub fn f64(mut self, v: Option<f64>) -> Self {
        match self.next() {
            Builder::F64(b) => b.push(v),
            _ => unreachable!("column {} is not f64", self.col - 1),
        }
        self
    }

    pub fn bool(mut self, v: Option<bool>) -> Self {
        match self.next() {
            Builder::Bool(b) => b.push(v),
            _ => unreachable!("column {} is not bool", self.col - 1),
        }
        self
    }

    pub fn time(mut self, v: Option<i64>) -> Self {
        match self.next() {
            Builder::Time(b) => b.push(v),
            _ => unreachable!("column {} is not a time", self.col - 1),
        }
        self
    }

    /// Ends the row: every column got its cell.
    pub fn end(self) {
        debug_assert_eq!(self.col, self.batch.schema.len(), "a row is one cell short");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Schema = &[("a", Kind::Str), ("n", Kind::U32), ("t", Kind::Time)];

    #[test]
    fn rows_become_typed_columns() {
        let mut b = Batch::new(S, 4);
        b.row().str(Some("x")).u32(Some(3)).time(Some(1000)).end();
        b.row().str(None).u32(None).time(None).end();
        let df = b.take().unwrap();
        assert_eq!(df.height(), 2);
        assert_eq!(df.column("a").unwrap().dtype(), &DataType::String);
        assert!(matches!(
            df.column("t").unwrap().dtype(),
            DataType::Datetime(TimeUnit::Milliseconds, None)
        ));
        assert!(b.is_empty());
        // An empty batch keeps its types.
        let empty = b.take().unwrap();
        assert_eq!(empty.column("n").unwrap().dtype(), &DataType::UInt32);
    }
}
