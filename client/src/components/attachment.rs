//! A file on a message: a photo as a thumbnail that opens full size (a link: keyboard and
//! screen readers use it as any other), a video in an inline player, anything else (PDF, text,
//! Office, HEIC) as a card with its name, size and a download link. Sizes from the message
//! (width/height) reserve the space before the file loads.

use beckon_shared::i18n::Text;
use beckon_shared::media::Family;
use beckon_shared::proto::v1::Attachment;
use yew::prelude::*;

/// "2.4 MB", "830 KB", "12 B".
pub fn human_size(bytes: u64) -> String {
    match bytes {
        // Tenths of a MB in whole numbers, ties to even as `{:.1}` of the float would round:
        // formatting a float would cost the app ~6 KB of wasm.
        b if b >= 1 << 20 => {
            let (tenths, rest) = ((b * 10) >> 20, (b * 10) & ((1 << 20) - 1));
            let half = 1 << 19;
            let tenths = tenths + u64::from(rest > half || (rest == half && tenths % 2 == 1));
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
        b if b >= 1 << 10 => format!("{} KB", b.div_ceil(1 << 10)),
        b => format!("{b} B"),
    }
}

#[derive(Properties, PartialEq)]
pub struct FileProps {
    pub file: Attachment,
}

#[function_component]
pub fn FileView(props: &FileProps) -> Html {
    let tx = crate::i18n::current();
    let a = &props.file;
    let url = a.url.clone();
    let shown = a.kind.inline() && !url.is_empty();
    match a.kind.family() {
        Family::Image if shown => {
            let label = tx.f(Text::OpenFullSize, &[("name", &a.name)]);
            html! {
                <a class="file image" href={url.clone()} target="_blank" rel="noopener" aria-label={label}>
                    <img src={url} alt={a.name.clone()} loading="lazy"
                        width={a.width.map(|w| w.to_string())} height={a.height.map(|h| h.to_string())} />
                </a>
            }
        }
        Family::Video if shown => html! {
            <video class="file video" src={url} controls=true preload="metadata" aria-label={a.name.clone()}
                width={a.width.map(|w| w.to_string())} height={a.height.map(|h| h.to_string())}></video>
        },
        _ => html! {
            <a class="file doc" href={url} download={a.name.clone()} target="_blank" rel="noopener">
                <span class="doc-icon">{ super::icons::document() }</span>
                <span class="doc-name">{ a.name.clone() }</span>
                <span class="doc-meta">{ format!("{} · {} · {}", a.kind.label(), human_size(a.size), tx.t(Text::Download)) }</span>
            </a>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1500), "2 KB");
        assert_eq!(human_size(5 * 1024 * 1024 + 300_000), "5.3 MB");
    }

    #[test]
    fn sizes_read_as_the_float_rounded_to_a_tenth_would() {
        for b in (0..200_000u64).map(|i| i * 997).chain([
            1 << 20,
            1_310_720,
            1_363_148,
            2_621_440,
            52_428_800,
            5 << 30,
        ]) {
            let expected = match b {
                b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
                b if b >= 1 << 10 => format!("{} KB", b.div_ceil(1 << 10)),
                b => format!("{b} B"),
            };
            assert_eq!(human_size(b), expected, "{b}");
        }
        assert_eq!(human_size(1_310_720), "1.2 MB");
        assert_eq!(human_size(1_363_148), "1.3 MB");
    }
}
