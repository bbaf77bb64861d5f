//! The built-in AI responder: answers from the project's knowledge base (FAQ
//! entries) and says how sure it is. Confidence is the word overlap (Dice
//! coefficient over meaningful words) between the customer's question and
//! the best-matching entry's question; an unrelated question scores near 0,
//! which lets the low-confidence trigger hand the customer to a human.

use crate::store::{Db, KnowledgeRow};
use async_trait::async_trait;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use switchboard_actors::ids::ProjectId;
use switchboard_actors::ports::{AiReply, AiResponder, AiTurn};

pub const FALLBACK_ANSWER: &str =
    "I'm not sure I can answer that. Could you rephrase it, or ask to talk to someone?";

const STOPWORDS: &[&str] = &[
    "a", "an", "the", "is", "are", "was", "be", "to", "of", "and", "or", "in", "on", "for", "with",
    "i", "me", "my", "you", "your", "we", "our", "it", "its", "do", "does", "can", "could", "how",
    "what", "when", "where", "which", "who", "why", "this", "that", "there", "please", "hi",
    "hello", "would", "should", "will", "at", "by", "from", "as", "if", "so", "am", "have", "has",
];

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// Dice coefficient of the two word sets, in 0..1.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let common = a.intersection(&b).count() as f64;
    2.0 * common / (a.len() + b.len()) as f64
}

/// The best entry for a question and its score.
pub fn best_answer<'a>(
    entries: &'a [KnowledgeRow],
    question: &str,
) -> Option<(&'a KnowledgeRow, f64)> {
    entries
        .iter()
        .map(|e| (e, similarity(question, &e.question)))
        .max_by(|x, y| x.1.total_cmp(&y.1))
}

pub struct KnowledgeResponder {
    db: Db,
    /// Entries per project, loaded on first use and dropped on every change.
    cache: RwLock<HashMap<ProjectId, Arc<Vec<KnowledgeRow>>>>,
}

impl KnowledgeResponder {
    pub fn new(db: Db) -> Self {
        KnowledgeResponder {
            db,
            cache: RwLock::new(HashMap::new()),
        }
    }

    pub fn invalidate(&self, project: ProjectId) {
        if let Ok(mut c) = self.cache.write() {
            c.remove(&project);
        }
    }

    async fn entries(&self, project: ProjectId) -> Result<Arc<Vec<KnowledgeRow>>, String> {
        if let Some(e) = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(&project).cloned())
        {
            return Ok(e);
        }
        let entries = Arc::new(
            self.db
                .knowledge(project)
                .await
                .map_err(|e| e.to_string())?,
        );
        if let Ok(mut c) = self.cache.write() {
            c.insert(project, entries.clone());
        }
        Ok(entries)
    }
}

#[async_trait]
impl AiResponder for KnowledgeResponder {
    async fn respond(
        &self,
        project_id: ProjectId,
        _history: &[AiTurn],
        question: &str,
    ) -> Result<AiReply, String> {
        let entries = self.entries(project_id).await?;
        Ok(match best_answer(&entries, question) {
            Some((entry, score)) if score > 0.0 => AiReply {
                content: entry.answer.clone(),
                confidence: (score * 1000.0).round() / 1000.0,
                metadata: json!({ "source": "knowledge_base", "knowledge_id": entry.id, "model": "builtin" }),
            },
            _ => AiReply {
                content: FALLBACK_ANSWER.to_string(),
                confidence: 0.0,
                metadata: json!({ "source": "fallback", "model": "builtin" }),
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use switchboard_actors::ids::KnowledgeId;

    fn entry(q: &str, a: &str) -> KnowledgeRow {
        KnowledgeRow {
            id: KnowledgeId::new(),
            project_id: ProjectId::new(),
            question: q.into(),
            answer: a.into(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn same_question_is_certain() {
        assert_eq!(
            similarity("How do I reset my password?", "how do i reset my PASSWORD"),
            1.0
        );
    }

    #[test]
    fn unrelated_question_scores_zero() {
        assert_eq!(
            similarity("Where is my parcel?", "How do I reset my password?"),
            0.0
        );
        assert_eq!(similarity("", "anything"), 0.0);
    }

    #[test]
    fn partial_overlap_is_in_between() {
        let s = similarity("reset password email", "How do I reset my password?");
        assert!(s > 0.5 && s < 1.0, "{s}");
    }

    #[test]
    fn best_answer_picks_the_closest_entry() {
        let entries = vec![
            entry("What are your opening hours?", "9 to 5"),
            entry("How do I reset my password?", "Use the link"),
        ];
        let (e, s) = best_answer(&entries, "I forgot my password, how to reset it").unwrap();
        assert_eq!(e.answer, "Use the link");
        assert!(s > 0.5);
        assert!(best_answer(&[], "x").is_none());
    }
}
