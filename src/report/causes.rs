//! Errors with their causes: every error type of dfpolicy keeps the error it came from as its
//! `source()`, and its own message says only what dfpolicy was doing. These turn such a chain into
//! the lines people read, with credentials redacted (an error may quote a location).

use std::error::Error;

use crate::secrets::redact;

/// The error's own message, then each cause's, outermost first. A cause whose message is already
/// the end of the one before (an error that repeats its source's text) is not listed twice.
pub fn messages(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        let message = redact(&error.to_string()).into_owned();
        if !messages.last().is_some_and(|last| last.ends_with(&message)) {
            messages.push(message);
        }
        next = error.source();
    }
    messages
}

/// The chain as the CLI prints it: `error: …`, then `  caused by: …` for each cause.
pub fn render(error: &(dyn Error + 'static)) -> String {
    let mut text = String::new();
    for (i, message) in messages(error).iter().enumerate() {
        text.push_str(if i == 0 { "error: " } else { "\n  caused by: " });
        text.push_str(message);
    }
    text
}

/// The chain on one line, `outer: cause: cause`: for messages that are stored as data (a failed
/// harness cell, a store row).
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    messages(error).join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the baseline `{0}`")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn every_cause_once_outermost_first_and_redacted() {
        let error = Outer(
            "s3://KEY:SECRET@bucket/base",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        );
        assert_eq!(
            render(&error),
            "error: cannot read the baseline `s3://***@bucket/base`\n  caused by: no such file"
        );
        assert_eq!(
            one_line(&error),
            "cannot read the baseline `s3://***@bucket/base`: no such file"
        );
    }
}
