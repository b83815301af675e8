//! The recorded reply of a write with a request id, from which a retry of
//! the same request is answered (see [`super::Batch::apply_once`]).
//!
//! A retry carries the very operation it retries, so the reply to a create
//! or an add need not be stored whole: which of the request's items were
//! applied is enough to rebuild it, one bit per item, where a copy of the
//! reply repeated every name and observation of the request. A bulk load
//! wrote its text twice over for nothing. Other replies are small and kept
//! whole. A compact record is only made when rebuilding it gives back the
//! very reply, so the answer to a retry never differs from the first.
//!
//! Format: a whole reply is the bincode of the `Outcome` (as every record
//! before this one was); a compact one is [`COMPACT`] and then the bincode
//! of [`Applied`]. An `Outcome` never starts with that byte: bincode writes
//! its variant index first, as one byte below 251.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::model::{AddedObservations, CreatedEntities, Entity, GraphOp, Outcome};

/// The first byte of a compact record.
const COMPACT: u8 = 0xFE;

/// Which items of a request were applied, in the request's order.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Applied {
    /// `create_entities`: for each entity whether it was created, then,
    /// for a created one, whether each of its observations was added.
    Entities(Bits),
    /// `add_observations`: whether each content of each item was added.
    Observations(Bits),
    /// `create_relations`: whether each relation was created.
    Relations(Bits),
}

/// The record of `outcome`, the reply to `op`.
pub(super) fn encode(op: &GraphOp, outcome: &Outcome) -> Result<Vec<u8>, StoreError> {
    if let Some(applied) = applied(op, outcome).filter(|a| rebuild(op, a).as_ref() == Ok(outcome)) {
        let mut bytes = vec![COMPACT];
        bincode::serde::encode_into_std_write(&applied, &mut bytes, bincode::config::standard())
            .map_err(|e| StoreError::RecordEncode(e.to_string()))?;
        return Ok(bytes);
    }
    bincode::serde::encode_to_vec(outcome, bincode::config::standard())
        .map_err(|e| StoreError::RecordEncode(e.to_string()))
}

/// The reply recorded in `bytes` for `op`.
pub(super) fn decode(op: &GraphOp, bytes: &[u8]) -> Result<Outcome, StoreError> {
    let undecodable = |e: String| StoreError::RecordDecode(e);
    match bytes.split_first() {
        Some((&COMPACT, rest)) => {
            let (applied, _): (Applied, usize) =
                bincode::serde::decode_from_slice(rest, bincode::config::standard())
                    .map_err(|e| undecodable(e.to_string()))?;
            rebuild(op, &applied).map_err(undecodable)
        }
        _ => bincode::serde::decode_from_slice(bytes, bincode::config::standard())
            .map(|(outcome, _)| outcome)
            .map_err(|e| undecodable(e.to_string())),
    }
}

/// Which items of `op` made it into `outcome`, read by walking both in
/// order; `None` for a reply kept whole.
fn applied(op: &GraphOp, outcome: &Outcome) -> Option<Applied> {
    let mut bits = Bits::default();
    match (op, outcome) {
        (GraphOp::CreateEntities(asked), Outcome::EntitiesCreated(done)) => {
            let mut created = done.created.iter().peekable();
            for entity in asked {
                let made = created.next_if(|c| c.name == entity.name);
                bits.push(made.is_some());
                if let Some(made) = made {
                    mark_subsequence(&mut bits, &entity.observations, &made.observations);
                }
            }
            Some(Applied::Entities(bits))
        }
        (GraphOp::AddObservations(asked), Outcome::ObservationsAdded(done)) => {
            if asked.len() != done.len() {
                return None;
            }
            for (add, result) in asked.iter().zip(done) {
                mark_subsequence(&mut bits, &add.contents, &result.added);
            }
            Some(Applied::Observations(bits))
        }
        (GraphOp::CreateRelations(asked), Outcome::RelationsCreated(done)) => {
            mark_subsequence(&mut bits, asked, done);
            Some(Applied::Relations(bits))
        }
        _ => None,
    }
}

/// One bit per item of `asked`: whether it is the next item of `kept`.
fn mark_subsequence<T: PartialEq>(bits: &mut Bits, asked: &[T], kept: &[T]) {
    let mut kept = kept.iter().peekable();
    for item in asked {
        bits.push(kept.next_if(|k| *k == item).is_some());
    }
}

/// The reply `applied` stands for, rebuilt from the request.
fn rebuild(op: &GraphOp, applied: &Applied) -> Result<Outcome, String> {
    let mut bits = applied_bits(applied).reader();
    let mut next = || bits.next().ok_or("the record is shorter than the request");
    let outcome = match (op, applied) {
        (GraphOp::CreateEntities(asked), Applied::Entities(_)) => {
            let mut result = CreatedEntities::default();
            let mut skipped = HashSet::new();
            for entity in asked {
                if next()? {
                    let mut observations = Vec::new();
                    for content in &entity.observations {
                        if next()? {
                            observations.push(content.clone());
                        }
                    }
                    result.created.push(Entity {
                        name: entity.name.clone(),
                        entity_type: entity.entity_type.clone(),
                        observations,
                    });
                } else if skipped.insert(entity.name.as_str()) {
                    result.skipped.push(entity.name.clone());
                }
            }
            Outcome::EntitiesCreated(result)
        }
        (GraphOp::AddObservations(asked), Applied::Observations(_)) => {
            let mut results = Vec::with_capacity(asked.len());
            for add in asked {
                let mut added = Vec::new();
                for content in &add.contents {
                    if next()? {
                        added.push(content.clone());
                    }
                }
                results.push(AddedObservations {
                    entity_name: add.entity_name.clone(),
                    added,
                });
            }
            Outcome::ObservationsAdded(results)
        }
        (GraphOp::CreateRelations(asked), Applied::Relations(_)) => {
            let mut created = Vec::new();
            for relation in asked {
                if next()? {
                    created.push(relation.clone());
                }
            }
            Outcome::RelationsCreated(created)
        }
        _ => return Err(format!("the record does not answer {}", op.tool_name())),
    };
    if bits.next().is_some() {
        return Err("the record is longer than the request".into());
    }
    Ok(outcome)
}

fn applied_bits(applied: &Applied) -> &Bits {
    match applied {
        Applied::Entities(bits) | Applied::Observations(bits) | Applied::Relations(bits) => bits,
    }
}

/// A sequence of bits, eight to a byte.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Bits {
    len: u64,
    bytes: Vec<u8>,
}

impl Bits {
    fn push(&mut self, bit: bool) {
        let i = self.len as usize;
        if i.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if bit {
            if let Some(byte) = self.bytes.last_mut() {
                *byte |= 1 << (i % 8);
            }
        }
        self.len += 1;
    }

    fn reader(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len as usize).map(|i| {
            self.bytes
                .get(i / 8)
                .is_some_and(|byte| byte & (1 << (i % 8)) != 0)
        })
    }
}

#[cfg(test)]
mod tests;
