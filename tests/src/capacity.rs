//! DynamoDB's consumed capacity for the calls the proxy recorded, by DynamoDB's documented
//! rules from item sizes (moto answers `ReturnConsumedCapacity` with fixed placeholders):
//! - item size: attribute names plus values (strings and binaries by bytes, numbers about one
//!   byte per two significant digits plus one, booleans and nulls one byte, lists and maps three
//!   bytes plus one per element);
//! - reads: 4 KB units of the item (`GetItem`, at least one unit) or of all items a `Query`
//!   evaluated, halved when eventually consistent (every index read is);
//! - writes: 1 KB units of the larger of the item before and after (at least one unit, also when
//!   a condition fails), doubled in `TransactWriteItems`; plus, for each global secondary index
//!   whose key the item has before or after, the index's own put or delete (an index projects
//!   the whole item here), none when the item did not change.

use serde_json::Value;

use crate::aws_proxy::{Call, Touched};
use gatehouse::store::aws::schema::{IndexSpec, TABLES};

/// Read and write request units (on-demand billing's names for capacity units).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Capacity {
    pub read: f64,
    pub write: f64,
}

impl std::ops::AddAssign for Capacity {
    fn add_assign(&mut self, other: Self) {
        self.read += other.read;
        self.write += other.write;
    }
}

const READ_UNIT: usize = 4096;
const WRITE_UNIT: usize = 1024;

pub fn consumed(call: &Call) -> Capacity {
    let op = call.target.strip_prefix("DynamoDB_20120810.").unwrap_or_default();
    match op {
        "GetItem" => {
            let size = call.response.get("Item").map_or(0, item_size);
            let consistent = call.request["ConsistentRead"].as_bool().unwrap_or(false);
            Capacity { read: read_units(size, consistent), write: 0.0 }
        }
        "Query" => {
            let items = call.response["Items"].as_array().map_or(&[][..], Vec::as_slice);
            let returned: usize = items.iter().map(item_size).sum();
            // Items a filter dropped were read too: priced at the returned items' mean size.
            let scanned = call.response["ScannedCount"].as_u64().unwrap_or(items.len() as u64) as usize;
            let evaluated = if items.is_empty() { 0 } else { returned * scanned / items.len() };
            let consistent =
                call.request.get("IndexName").is_none() && call.request["ConsistentRead"].as_bool().unwrap_or(false);
            Capacity { read: read_units(evaluated, consistent), write: 0.0 }
        }
        "BatchGetItem" => {
            // Each item is rounded up on its own; eventually consistent unless asked.
            let consistent = call.request["RequestItems"]
                .as_object()
                .is_some_and(|tables| tables.values().any(|t| t["ConsistentRead"].as_bool().unwrap_or(false)));
            let items = call.response["Responses"].as_object().into_iter().flat_map(|t| t.values());
            let read =
                items.filter_map(Value::as_array).flatten().map(|item| read_units(item_size(item), consistent)).sum();
            Capacity { read, write: 0.0 }
        }
        "PutItem" | "UpdateItem" | "DeleteItem" => {
            Capacity { read: 0.0, write: call.touched.iter().map(write_units).sum() }
        }
        "TransactWriteItems" => Capacity { read: 0.0, write: 2.0 * call.touched.iter().map(write_units).sum::<f64>() },
        _ => Capacity::default(),
    }
}

fn read_units(size: usize, consistent: bool) -> f64 {
    let units = size.div_ceil(READ_UNIT).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

fn units(size: usize) -> f64 {
    size.div_ceil(WRITE_UNIT).max(1) as f64
}

/// The table's write, then each index's.
fn write_units(touched: &Touched) -> f64 {
    let size = |item: &Option<Value>| item.as_ref().map_or(0, item_size);
    let (before, after) = (size(&touched.before), size(&touched.after));
    let mut total = units(before.max(after));
    if touched.before == touched.after {
        return total;
    }
    let indexes = TABLES.iter().find(|t| touched.table.ends_with(t.suffix)).map_or(&[][..], |t| t.indexes);
    for index in indexes {
        let key = |item: &Option<Value>| index_key(index, item.as_ref()?);
        match (key(&touched.before), key(&touched.after)) {
            (None, None) => {}
            (Some(_), None) => total += units(before),
            (None, Some(_)) => total += units(after),
            (Some(old), Some(new)) if old == new => total += units(after),
            (Some(_), Some(_)) => total += units(before) + units(after),
        }
    }
    total
}

fn index_key(index: &IndexSpec, item: &Value) -> Option<(Value, Option<Value>)> {
    let partition = item.get(index.partition_key)?.clone();
    match index.sort_key {
        Some(sort) => Some((partition, Some(item.get(sort)?.clone()))),
        None => Some((partition, None)),
    }
}

/// An item's size (DynamoDB JSON: `{"name": {"S": "..."}, ...}`).
pub fn item_size(item: &Value) -> usize {
    item.as_object().map_or(0, |attributes| attributes.iter().map(|(name, value)| name.len() + value_size(value)).sum())
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else { return 0 };
    let text = || inner.as_str().unwrap_or_default();
    match kind.as_str() {
        "S" => text().len(),
        "N" => number_size(text()),
        "B" => base64_len(text()),
        "BOOL" | "NULL" => 1,
        "SS" => inner.as_array().map_or(0, |a| a.iter().map(|s| s.as_str().map_or(0, str::len)).sum()),
        "NS" => inner.as_array().map_or(0, |a| a.iter().map(|s| number_size(s.as_str().unwrap_or_default())).sum()),
        "BS" => inner.as_array().map_or(0, |a| a.iter().map(|s| base64_len(s.as_str().unwrap_or_default())).sum()),
        "L" => 3 + inner.as_array().map_or(0, |a| a.iter().map(|v| 1 + value_size(v)).sum::<usize>()),
        "M" => 3 + inner.as_object().map_or(0, |m| m.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>()),
        _ => 0,
    }
}

fn number_size(text: &str) -> usize {
    let digits = text.trim_start_matches('-').chars().filter(char::is_ascii_digit).collect::<String>();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn base64_len(text: &str) -> usize {
    text.trim_end_matches('=').len() * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_follow_the_documented_rules() {
        // "pk" (2) + 5 bytes; "n" (1) + 3 significant digits → 2 + 1.
        assert_eq!(item_size(&json!({"pk": {"S": "hello"}, "n": {"N": "12300"}})), 2 + 5 + 1 + 3);
        assert_eq!(item_size(&json!({"l": {"L": [{"BOOL": true}]}})), 1 + 3 + 1 + 1);
        assert_eq!(read_units(0, true), 1.0);
        assert_eq!(read_units(4097, false), 1.0);
        assert_eq!(units(1025), 2.0);
    }
}
