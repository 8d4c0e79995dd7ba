//! Comparing names as people write them: word by word, in any order, titles dropped, a small
//! slip in a word forgiven (Jaro–Winkler ≥ 0.88 per word) — but never a different word: "Asha"
//! is not "Usha", "Sharma" is not "Verma" (a whole-name Jaro–Winkler scores both about 0.9).

/// The least name similarity that counts as the same name.
pub const NAME_THRESHOLD: f64 = 0.88;

/// Lower-case words without titles or punctuation.
pub(crate) fn name_words(name: &str) -> Vec<String> {
    const TITLES: [&str; 7] = ["mr", "mrs", "ms", "dr", "shri", "smt", "km"];
    let words: Vec<String> = name
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect();
    // A title is dropped only where it is one (never the whole name: "Asha Kumari" keeps both).
    let first_is_title = words.len() > 1 && TITLES.contains(&words[0].as_str());
    words
        .into_iter()
        .skip(usize::from(first_is_title))
        .collect()
}

/// Jaro–Winkler similarity of two strings, 0 to 1.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.is_empty() || b.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut a_hit = vec![false; a.len()];
    let mut b_hit = vec![false; b.len()];
    let mut matches = 0usize;
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if !b_hit[j] && b[j] == *ca {
                a_hit[i] = true;
                b_hit[j] = true;
                matches += 1;
                break;
            }
        }
    }
    if matches == 0 {
        return 0.0;
    }
    let a_seq = a.iter().zip(&a_hit).filter(|(_, h)| **h).map(|(c, _)| c);
    let b_seq = b.iter().zip(&b_hit).filter(|(_, h)| **h).map(|(c, _)| c);
    let transpositions = a_seq.zip(b_seq).filter(|(x, y)| x != y).count() / 2;
    let m = matches as f64;
    let jaro = (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(&b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// How alike two names are, with their words in any order.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let (wa, wb) = (name_words(a), name_words(b));
    let (short, long) = if wa.len() <= wb.len() {
        (&wa, &wb)
    } else {
        (&wb, &wa)
    };
    // One missing middle name is forgiven, not more.
    if short.is_empty() || long.len() - short.len() > 1 {
        return 0.0;
    }
    let mut free: Vec<&String> = long.iter().collect();
    let mut worst: f64 = 1.0;
    for w in short {
        let Some((at, score)) = free
            .iter()
            .enumerate()
            .map(|(i, x)| (i, jaro_winkler(w, x)))
            .max_by(|x, y| x.1.total_cmp(&y.1))
        else {
            return 0.0;
        };
        free.remove(at);
        worst = worst.min(score);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_by_words_in_any_order_and_forgive_small_slips() {
        assert!(name_similarity("Asha Kumari", "KUMARI, Asha") > 0.99);
        assert!(name_similarity("Asha Kumari", "Aasha Kumari") >= NAME_THRESHOLD);
        assert!(name_similarity("Mr. Ravi Shankar", "Ravi Shankar") > 0.99);
        assert!(name_similarity("Asha Kumari", "Ravi Shankar") < NAME_THRESHOLD);
        assert!(name_similarity("Asha Kumari", "Usha Kumari") < NAME_THRESHOLD);
        assert!(name_similarity("Priya Sharma", "Priya Verma") < NAME_THRESHOLD);
        assert!(name_similarity("Fatima Begum", "Fathima Begum") >= NAME_THRESHOLD);
        assert!(name_similarity("Asha Kumari", "Asha Rani Kumari") >= NAME_THRESHOLD);
        assert!(name_similarity("Asha", "Asha Rani Kumari") < NAME_THRESHOLD);
        assert!((jaro_winkler("MARTHA", "MARHTA") - 0.961).abs() < 0.001);
    }
}
