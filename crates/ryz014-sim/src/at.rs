//! The modem side of the AT syntax: a small, tolerant tokenizer that splits a command line into
//! its name, its form (action, read `?`, test `=?`, set `=<args>`) and its arguments (quoted
//! strings, bare words or numbers, empty fields).

use std::fmt;

/// One argument of a set command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    /// Nothing between two commas (or after the last one).
    Empty,
    /// A quoted string, without its quotes (may be empty: `""`).
    Quoted(String),
    /// A bare word or number, trimmed.
    Bare(String),
}

impl Arg {
    /// The text of a quoted or bare argument; `None` for an empty field.
    pub fn text(&self) -> Option<&str> {
        match self {
            Arg::Empty => None,
            Arg::Quoted(s) | Arg::Bare(s) => Some(s),
        }
    }

    /// Whether the field is empty or an empty quoted string.
    pub fn is_blank(&self) -> bool {
        self.text().is_none_or(str::is_empty)
    }
}

/// The form of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// `AT+X` (or a basic command without digits, `ATE`).
    Action,
    /// `AT+X?`.
    Read,
    /// `AT+X=?`.
    Test,
    /// `AT+X=<args>` (or `ATE1`, whose digits become one bare argument).
    Set(Vec<Arg>),
}

/// A tokenized command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtCommand {
    /// The name in upper case: `""` for plain `AT`, `E`, `I`, `+CGSN`, `^RESET`, ...
    pub name: String,
    /// The form and arguments.
    pub form: Form,
}

/// Why a line could not be tokenized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    /// The line does not start with `AT`.
    #[error("the line does not start with AT")]
    NotAt,
    /// A quoted string is not closed.
    #[error("unterminated quoted string")]
    Unterminated,
    /// Something follows a closing quote before the next comma.
    #[error("unexpected text after a quoted string")]
    TrailingText,
    /// The text after the command name is not `?`, `=?` or `=<args>`.
    #[error("unexpected text after the command name")]
    BadSuffix,
}

impl fmt::Display for AtCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AT{}", self.name)?;
        match &self.form {
            Form::Action => Ok(()),
            Form::Read => f.write_str("?"),
            Form::Test => f.write_str("=?"),
            Form::Set(args) => {
                f.write_str("=")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    match a {
                        Arg::Empty => {}
                        Arg::Quoted(s) => write!(f, "\"{s}\"")?,
                        Arg::Bare(s) => f.write_str(s)?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// Tokenizes one command line (without its line end).
pub fn tokenize(line: &str) -> Result<AtCommand, SyntaxError> {
    let line = line.trim();
    let rest = match line.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("AT") => &line[2..],
        _ => return Err(SyntaxError::NotAt),
    };
    let Some(first) = rest.chars().next() else {
        return Ok(AtCommand {
            name: String::new(),
            form: Form::Action,
        });
    };
    if matches!(first, '+' | '^' | '&' | '$' | '%' | '#' | '*') {
        let len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(rest.len(), |i| i + 1);
        let name = rest[..len].to_ascii_uppercase();
        let form = parse_suffix(rest[len..].trim_start())?;
        return Ok(AtCommand { name, form });
    }
    if first.is_ascii_alphabetic() {
        // A basic command: one letter, then optional digits (`ATE0`, `ATI1`), `?` or `=<n>`.
        let name = first.to_ascii_uppercase().to_string();
        let tail = rest[1..].trim();
        let form = if tail.is_empty() {
            Form::Action
        } else if tail.bytes().all(|b| b.is_ascii_digit()) {
            Form::Set(vec![Arg::Bare(tail.to_string())])
        } else {
            parse_suffix(tail)?
        };
        return Ok(AtCommand { name, form });
    }
    Err(SyntaxError::BadSuffix)
}

fn parse_suffix(s: &str) -> Result<Form, SyntaxError> {
    if s.is_empty() {
        return Ok(Form::Action);
    }
    if s == "?" {
        return Ok(Form::Read);
    }
    let Some(args) = s.strip_prefix('=') else {
        return Err(SyntaxError::BadSuffix);
    };
    if args.trim() == "?" {
        return Ok(Form::Test);
    }
    split_args(args).map(Form::Set)
}

/// Splits `a,"b,c",,d` into arguments: commas inside quotes do not split; whitespace around
/// fields is ignored.
pub fn split_args(s: &str) -> Result<Vec<Arg>, SyntaxError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ') {
            chars.next();
        }
        match chars.peek() {
            None => {
                out.push(Arg::Empty);
                break;
            }
            Some('"') => {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '"' {
                        closed = true;
                        break;
                    }
                    text.push(c);
                }
                if !closed {
                    return Err(SyntaxError::Unterminated);
                }
                while chars.peek().is_some_and(|c| *c == ' ') {
                    chars.next();
                }
                out.push(Arg::Quoted(text));
                match chars.next() {
                    None => break,
                    Some(',') => continue,
                    Some(_) => return Err(SyntaxError::TrailingText),
                }
            }
            Some(_) => {
                let mut text = String::new();
                let mut ended = true;
                for c in chars.by_ref() {
                    if c == ',' {
                        ended = false;
                        break;
                    }
                    text.push(c);
                }
                let text = text.trim().to_string();
                out.push(if text.is_empty() {
                    Arg::Empty
                } else {
                    Arg::Bare(text)
                });
                if ended {
                    break;
                }
            }
        }
    }
    Ok(out)
}

/// The command name a fault refers to, normalised like [`AtCommand::name`]: upper case,
/// without a leading `AT` (`"at+cgsn"` → `"+CGSN"`).
pub fn normalize_name(name: &str) -> String {
    let up = name.trim().to_ascii_uppercase();
    let up = up.strip_prefix("AT").unwrap_or(&up).to_string();
    // Drop a trailing form (`+SQNDMST?`, `+SQNFOTACFG=...`) so the name alone is compared.
    let end = up
        .char_indices()
        .skip(1)
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(up.len(), |(i, _)| i);
    up[..end].to_string()
}

/// Whether a fault's command name matches a command: exact, or with the `+`/`^` prefix left out.
pub fn name_matches(fault_name: &str, command: &AtCommand) -> bool {
    let want = normalize_name(fault_name);
    want == command.name
        || (!want.is_empty()
            && !want.starts_with(['+', '^', '&', '$', '%', '#', '*'])
            && command.name.len() > 1
            && command.name[1..] == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Arg {
        Arg::Quoted(s.into())
    }
    fn b(s: &str) -> Arg {
        Arg::Bare(s.into())
    }

    #[test]
    fn tokenizes_the_forms() {
        assert_eq!(tokenize("AT").unwrap().name, "");
        assert_eq!(tokenize("at+cgsn").unwrap().name, "+CGSN");
        assert_eq!(tokenize("AT+CFUN?").unwrap().form, Form::Read);
        assert_eq!(tokenize("AT+SQNFOTACFG=?").unwrap().form, Form::Test);
        assert_eq!(
            tokenize("ATE0").unwrap(),
            AtCommand {
                name: "E".into(),
                form: Form::Set(vec![b("0")])
            }
        );
        assert_eq!(tokenize("ATI1").unwrap().name, "I");
        assert_eq!(tokenize("AT^RESET").unwrap().name, "^RESET");
        assert_eq!(tokenize("AT+CGSN junk"), Err(SyntaxError::BadSuffix));
        assert_eq!(tokenize("hello"), Err(SyntaxError::NotAt));
    }

    #[test]
    fn splits_arguments_with_quotes_and_empty_fields() {
        let c =
            tokenize(r#"AT+SQNDMCFG="standard","server",100,"60","coaps://a,b",,"bs""#).unwrap();
        assert_eq!(
            c.form,
            Form::Set(vec![
                q("standard"),
                q("server"),
                b("100"),
                q("60"),
                q("coaps://a,b"),
                Arg::Empty,
                q("bs")
            ])
        );
        let c = tokenize(r#"AT+SQNFOTACFG="standard",0,2,10,60,,60"#).unwrap();
        assert_eq!(
            c.form,
            Form::Set(vec![
                q("standard"),
                b("0"),
                b("2"),
                b("10"),
                b("60"),
                Arg::Empty,
                b("60")
            ])
        );
        assert_eq!(split_args(r#""a"#), Err(SyntaxError::Unterminated));
        assert_eq!(split_args(r#""a"x,1"#), Err(SyntaxError::TrailingText));
        assert_eq!(split_args(""), Ok(vec![Arg::Empty]));
        assert_eq!(split_args("1,"), Ok(vec![b("1"), Arg::Empty]));
    }

    #[test]
    fn fault_names_match_commands() {
        let c = tokenize("AT+SQNDMST").unwrap();
        assert!(name_matches("AT+SQNDMST", &c));
        assert!(name_matches("+sqndmst", &c));
        assert!(name_matches("SQNDMST", &c));
        assert!(name_matches("AT+SQNDMST?", &c));
        assert!(!name_matches("+SQNDMCFG", &c));
        assert_eq!(normalize_name("AT^RESET"), "^RESET");
    }

    #[test]
    fn displays_back() {
        let c = tokenize(r#"AT+SQNFOTACFG="standard",0,,60"#).unwrap();
        assert_eq!(c.to_string(), r#"AT+SQNFOTACFG="standard",0,,60"#);
    }
}
