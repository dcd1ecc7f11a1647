//! The kernel entries of a PTX module and their parameters' sizes: what
//! `cuModuleLoadData` checks against the host build of the same kernels.

/// One `.entry` of a module.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    /// Bytes of each parameter, in order.
    pub param_sizes: Vec<usize>,
}

fn type_size(token: &str) -> Option<usize> {
    Some(match token {
        ".u8" | ".s8" | ".b8" => 1,
        ".u16" | ".s16" | ".b16" | ".f16" => 2,
        ".u32" | ".s32" | ".b32" | ".f32" => 4,
        ".u64" | ".s64" | ".b64" | ".f64" => 8,
        _ => return None,
    })
}

/// The size of one `.param` declaration, e.g. `.param .u64 .ptr .align 1
/// k_param_0` or `.param .align 8 .b8 k_param_1[16]`.
fn param_size(decl: &str) -> Result<usize, String> {
    let tokens: Vec<&str> = decl.split_whitespace().collect();
    if tokens.first() != Some(&".param") {
        return Err(format!("not a parameter: `{decl}`"));
    }
    let element = tokens
        .iter()
        .find_map(|t| type_size(t))
        .ok_or_else(|| format!("no type in `{decl}`"))?;
    let name = tokens.last().copied().unwrap_or_default();
    let count = match (name.find('['), name.strip_suffix(']')) {
        (Some(open), Some(inner)) => inner[open + 1..]
            .parse::<usize>()
            .map_err(|_| format!("bad array size in `{decl}`"))?,
        _ => 1,
    };
    Ok(element * count)
}

/// Every `.entry` of `ptx`, with its parameter sizes.
pub fn entries(ptx: &str) -> Result<Vec<Entry>, String> {
    let mut out = Vec::new();
    let mut rest = ptx;
    while let Some(at) = rest.find(".entry ") {
        rest = &rest[at + ".entry ".len()..];
        let open = rest.find('(').ok_or("an .entry without a parameter list")?;
        let name = rest[..open].trim().to_string();
        let close = rest[open..]
            .find(')')
            .ok_or_else(|| format!("entry {name}: unterminated parameter list"))?
            + open;
        let list = &rest[open + 1..close];
        let param_sizes = list
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(param_size)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("entry {name}: {e}"))?;
        out.push(Entry { name, param_sizes });
        rest = &rest[close..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_as_nvrtc_writes_them() {
        let ptx = "// .globl fill\n.visible .entry fill(\n\t.param .u64 fill_param_0,\n\t\
                   .param .u64 .ptr .align 1 fill_param_1,\n\t.param .f32 fill_param_2\n)\n{\n}\n\
                   .visible .entry none(\n\n)\n{ }\n\
                   .entry arr(.param .align 8 .b8 arr_param_0[24], .param .u32 arr_param_1)\n";
        assert_eq!(
            entries(ptx).unwrap(),
            vec![
                Entry {
                    name: "fill".into(),
                    param_sizes: vec![8, 8, 4]
                },
                Entry {
                    name: "none".into(),
                    param_sizes: vec![]
                },
                Entry {
                    name: "arr".into(),
                    param_sizes: vec![24, 4]
                },
            ]
        );
    }

    #[test]
    fn a_declaration_without_a_type_is_an_error() {
        assert!(entries(".entry k(.param k_param_0)").is_err());
    }
}
