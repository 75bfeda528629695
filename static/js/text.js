// Word and character counts of the text that will be spoken: a line-by-line port of
// speech/text.py (_runs, strip_tags, spoken_text, count_words, count_characters).
// The server's counts are what the quota is charged with; tests/browser compares these
// functions with the Python ones, so change both together.

export const EMOTIONS = ["neutral", "happy", "sad", "angry", "surprised", "whisper", "calm"];

// Python's str.isspace() set (which is also what `\s` means in Python's `re`): JS's own
// `\s` differs (it has U+FEFF, lacks U+001C-U+001F and U+0085).
const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_CHAR = new RegExp(`^[${WS}]$`);
const WS_RUN = new RegExp(`[${WS}]+`, "g");
const LEADING_WS = new RegExp(`^[${WS}]+`);
const TRAILING_WS = new RegExp(`[${WS}]+$`);
const TAG_RE = new RegExp(`\\([${WS}]*([A-Za-z]+)[${WS}]*\\)`, "g");
const TERMINALS = ".!?…。！？‼⁇⁈⁉";
const CLOSERS = "\"')]}»”’」』）】〉》";
const CJK = "\\u3040-\\u30ff\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff";
const WORD_RE = new RegExp(`[${CJK}]|[^${WS}${CJK}]+`, "gu");
// str.isalnum(): letters (Lu Ll Lt Lm Lo) and numbers (Nd Nl No).
const ALNUM = /[\p{L}\p{N}]/u;

const isSpace = (ch) => ch !== "" && ch !== undefined && WS_CHAR.test(ch);
const pyStrip = (s) => s.replace(LEADING_WS, "").replace(TRAILING_WS, "");
const pyRstrip = (s) => s.replace(TRAILING_WS, "");

function rstripChars(s, chars) {
  let end = s.length;
  while (end > 0 && chars.includes(s[end - 1])) end -= 1;
  return s.slice(0, end);
}

function isTagPosition(spokenSoFar) {
  const stripped = pyRstrip(spokenSoFar);
  if (!stripped) return true;
  if (spokenSoFar.slice(stripped.length).includes("\n")) return true;
  const last = rstripChars(stripped, CLOSERS);
  return last.length > 0 && TERMINALS.includes(last[last.length - 1]);
}

/** [[emotion or null, spoken text], ...]: the text cut at emotion tags, tags removed. */
export function runs(text) {
  const out = [];
  let emotion = null;
  let current = "";
  let spoken = "";
  let pos = 0;
  for (const match of text.matchAll(TAG_RE)) {
    const name = match[1].toLowerCase();
    const before = text.slice(pos, match.index);
    if (!EMOTIONS.includes(name) || !isTagPosition(spoken + before)) continue;
    current += before;
    spoken += before;
    if (pyStrip(current)) {
      out.push([emotion, current]);
    } else if (out.length && current) {
      out[out.length - 1] = [out[out.length - 1][0], out[out.length - 1][1] + current];
    }
    emotion = name;
    current = "";
    pos = match.index + match[0].length;
    if (!pyStrip(spoken) || isSpace(spoken.slice(-1))) {
      while (pos < text.length && " \t".includes(text[pos])) pos += 1;
    } else if (pos < text.length && !isSpace(text[pos])) {
      current = " ";
      spoken += " ";
    }
  }
  current += text.slice(pos);
  if (current) out.push([emotion, current]);
  return out;
}

export function stripTags(text) {
  return pyStrip(runs(text).map(([, part]) => part).join(""));
}

export function spokenText(text) {
  return pyStrip(stripTags(text).replace(WS_RUN, " "));
}

export function countWords(text) {
  const tokens = stripTags(text).match(WORD_RE) || [];
  return tokens.filter((token) => ALNUM.test(token)).length;
}

/** Characters as Python counts them: code points, not UTF-16 units. */
export function countCharacters(text) {
  return Array.from(spokenText(text)).length;
}

/** Length of the raw text, tags and spacing included: the server accepts at most twice
 *  MAX_TEXT_LENGTH of it (the limit itself counts `countCharacters`). */
export function rawLength(text) {
  return Array.from(text).length;
}

/** The emotions used by tags that count (for a hint under the text area). */
export function emotionsUsed(text) {
  return [...new Set(runs(text).map(([emotion]) => emotion).filter(Boolean))];
}
