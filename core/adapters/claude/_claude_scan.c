/* parse_lines in C: a drop-in twin of reader.py's py_parse_lines (same signature, same answers;
 * _claude_scan.pyi states it), chosen once at the reader's import where setup.py built this.
 *
 * parse_lines(buf, is_subagent, parent_session) -> (rows, bad lines)
 *
 * It runs the same search as the Python function, over the same bytes, and reads the lines it
 * can read with certainty. Any usage line it cannot (another field order, an escape in a captured
 * string, a float counter, a time in another shape, JSON it is not sure orjson takes) goes to the
 * reader's own _line, untouched, which reads it exactly as the Python function would. So the two
 * agree by construction: this file is a fast path, not a second set of rules.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <stdint.h>

#define HEAD 1024
#define TAIL 4096
#define MAX_DEPTH 64

static const char USAGE_KEY[] = "\"usage\":";
static const char USER_HEAD[] = "\"message\":{\"role\":\"user\"";
static const char CONTENT_OPEN[] = "\"role\":\"assistant\",\"content\":[";
static const char CONTENT_CLOSE[] = "],\"stop_reason\":";
static const char SIDECHAIN_TRUE[] = "\"isSidechain\":true";
#define LEN(s) ((Py_ssize_t)(sizeof(s) - 1))

#ifndef __GLIBC__
/* (glibc has it; elsewhere a plain loop) */
static void *memrchr(const void *s, int c, size_t n)
{
    const unsigned char *p = (const unsigned char *)s + n;
    while (p > (const unsigned char *)s)
        if (*--p == (unsigned char)c) return (void *)p;
    return NULL;
}
#endif

/* Python's bytes.find(sub, lo, hi): the first match lying wholly inside [lo, hi), or -1. */
static Py_ssize_t find(const char *b, Py_ssize_t n, const char *sub, Py_ssize_t m, Py_ssize_t lo, Py_ssize_t hi)
{
    if (hi > n) hi = n;
    if (lo < 0) lo = 0;
    if (hi - lo < m) return -1;
    const char *p = memmem(b + lo, (size_t)(hi - lo), sub, (size_t)m);
    return p ? (Py_ssize_t)(p - b) : -1;
}

static Py_ssize_t find_byte(const char *b, Py_ssize_t n, char c, Py_ssize_t lo, Py_ssize_t hi)
{
    if (hi > n) hi = n;
    if (lo < 0) lo = 0;
    if (hi <= lo) return -1;
    const char *p = memchr(b + lo, c, (size_t)(hi - lo));
    return p ? (Py_ssize_t)(p - b) : -1;
}

/* find(USAGE_KEY, lo, hi), by its last byte: memchr for ':' runs about twice as fast as memmem
 * on these bytes (and most colons are followed by a check of 7 bytes that fails at once). */
static Py_ssize_t find_usage(const char *b, Py_ssize_t n, Py_ssize_t lo, Py_ssize_t hi)
{
    if (hi > n) hi = n;
    if (lo < 0) lo = 0;
    Py_ssize_t m = LEN(USAGE_KEY);
    if (hi - lo < m) return -1;
    const char *p = b + lo + m - 1, *end = b + hi;
    while (p < end) {
        p = memchr(p, ':', (size_t)(end - p));
        if (!p) return -1;
        if (p[-1] == '"' && memcmp(p - (m - 1), USAGE_KEY, (size_t)(m - 1)) == 0) return (p - b) - (m - 1);
        p++;
    }
    return -1;
}

/* bytes.rfind(sub, lo, hi): the last match lying wholly inside [lo, hi), or -1. */
static Py_ssize_t rfind(const char *b, Py_ssize_t n, const char *sub, Py_ssize_t m, Py_ssize_t lo, Py_ssize_t hi)
{
    if (hi > n) hi = n;
    if (lo < 0) lo = 0;
    for (Py_ssize_t i = hi - m; i >= lo; i--) {
        const char *p = memrchr(b + lo, sub[0], (size_t)(i + 1 - lo));
        if (!p) return -1;
        i = p - b;
        if (memcmp(p, sub, (size_t)m) == 0) return i;
    }
    return -1;
}

/* ---- a strict JSON reader over one line with its content cut out ---------------------------
 * Stricter than orjson wherever it is unsure (any float, \u escapes of surrogates, deep
 * nesting): such a line goes to the Python loop, which asks orjson. */

typedef struct { const unsigned char *p, *end; int fail; } Rd;

typedef struct { const unsigned char *s; Py_ssize_t n; int esc; int ascii; } Str;  /* raw bytes between quotes */

static void ws(Rd *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

/* A string at r->p (the opening quote). Checks escapes, control bytes and UTF-8. */
static int string(Rd *r, Str *out)
{
    const unsigned char *p = r->p + 1, *end = r->end;
    int esc = 0, ascii = 1;
    const unsigned char *s = p;
    while (p < end) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {   /* most bytes */
            p++;
            continue;
        }
        if (c == '"') {
            if (out) { out->s = s; out->n = p - s; out->esc = esc; out->ascii = ascii; }
            r->p = p + 1;
            return 1;
        }
        if (c == '\\') {
            esc = 1;
            if (p + 1 >= end) return 0;
            unsigned e = p[1];
            if (e == 'u') {
                unsigned v;
                if (p + 6 > end || !hex4(p + 2, &v) || (v >= 0xD800 && v <= 0xDFFF)) return 0;
                p += 6;
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') return 0;
            p += 2;
            continue;
        }
        if (c < 0x20) return 0;
        if (c < 0x80) { p++; continue; }
        ascii = 0;
        /* UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) */
        if (c >= 0xC2 && c <= 0xDF) {
            if (p + 1 >= end || (p[1] & 0xC0) != 0x80) return 0;
            p += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (p + 2 >= end || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
            if (c == 0xE0 && p[1] < 0xA0) return 0;
            if (c == 0xED && p[1] > 0x9F) return 0;
            p += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (p + 3 >= end || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
            if (c == 0xF0 && p[1] < 0x90) return 0;
            if (c == 0xF4 && p[1] > 0x8F) return 0;
            p += 4;
        } else {
            return 0;
        }
    }
    return 0;
}

/* A number. Integers only (with at most 18 digits) are taken; any fraction or exponent makes
 * the line the Python loop's (orjson's float reading is not repeated here). */
static int integer(Rd *r, long long *out, int *negative)
{
    const unsigned char *p = r->p, *end = r->end;
    int neg = 0;
    if (p < end && *p == '-') { neg = 1; p++; }
    if (p >= end || *p < '0' || *p > '9') return 0;
    const unsigned char *d = p;
    if (*p == '0') p++;
    else while (p < end && *p >= '0' && *p <= '9') p++;
    if (p - d > 18) return 0;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return 0;
    long long v = 0;
    for (const unsigned char *q = d; q < p; q++) v = v * 10 + (*q - '0');
    if (out) *out = neg ? -v : v;
    if (negative) *negative = neg;
    r->p = p;
    return 1;
}

static int literal(Rd *r, const char *word, Py_ssize_t n)
{
    if (r->end - r->p < n || memcmp(r->p, word, (size_t)n) != 0) return 0;
    r->p += n;
    return 1;
}

/* What a value was, for the fields the loop reads. */
enum { V_NONE = 0, V_STR, V_INT, V_TRUE, V_FALSE, V_NULL, V_OBJ, V_ARR, V_EMPTY_ARR };

static int value(Rd *r, int depth, int *kind, Str *s, long long *num);

/* Skip an object's or array's body after its opening byte (r->p just past it). */
static int container(Rd *r, int depth, int is_obj, int *count)
{
    if (depth > MAX_DEPTH) return 0;
    int n = 0;
    ws(r);
    unsigned close = is_obj ? '}' : ']';
    if (r->p < r->end && *r->p == close) { r->p++; if (count) *count = 0; return 1; }
    for (;;) {
        ws(r);
        if (is_obj) {
            if (r->p >= r->end || *r->p != '"' || !string(r, NULL)) return 0;
            ws(r);
            if (r->p >= r->end || *r->p != ':') return 0;
            r->p++;
            ws(r);
        }
        int kind;
        if (!value(r, depth + 1, &kind, NULL, NULL)) return 0;
        n++;
        ws(r);
        if (r->p >= r->end) return 0;
        if (*r->p == ',') { r->p++; continue; }
        if (*r->p == close) { r->p++; if (count) *count = n; return 1; }
        return 0;
    }
}

static int value(Rd *r, int depth, int *kind, Str *s, long long *num)
{
    if (r->p >= r->end) return 0;
    unsigned c = *r->p;
    if (c == '"') { *kind = V_STR; return string(r, s); }
    if (c == '{') { r->p++; *kind = V_OBJ; return container(r, depth, 1, NULL); }
    if (c == '[') {
        int n;
        r->p++;
        if (!container(r, depth, 0, &n)) return 0;
        *kind = n ? V_ARR : V_EMPTY_ARR;
        return 1;
    }
    if (c == 't') { *kind = V_TRUE; return literal(r, "true", 4); }
    if (c == 'f') { *kind = V_FALSE; return literal(r, "false", 5); }
    if (c == 'n') { *kind = V_NULL; return literal(r, "null", 4); }
    *kind = V_INT;
    return integer(r, num, NULL);
}

/* The fields a usage line gives the loop. */
typedef struct {
    int message;             /* times seen */
    int content_empty, has_content;
    int id_kind, model_kind, usage_kind, req_kind, side_kind, err_kind, ts_kind, sess_kind, cwd_kind, branch_kind, cost_kind;
    Str id, model, req, ts, sess, cwd, branch, speed;
    int speed_kind;
    long long input, cache_read, writes, output, w1h;
    int have_input, have_cache_read, have_writes, have_output, have_w1h, split_kind;
    const unsigned char *usage_start, *usage_end;
    int usage_canonical;
} Line;

#define KEY_IS(k, lit) ((k).n == LEN(lit) && memcmp((k).s, lit, (size_t)LEN(lit)) == 0)

/* A key (a string without escapes: a key with one sends the line to Python). */
static int key(Rd *r, Str *k)
{
    ws(r);
    if (r->p >= r->end || *r->p != '"' || !string(r, k) || k->esc) return 0;
    ws(r);
    if (r->p >= r->end || *r->p != ':') return 0;
    r->p++;
    ws(r);
    return 1;
}

/* After a member: ',' (1, more follow), the closing byte (2) or bad JSON (0). */
static int next(Rd *r, unsigned close)
{
    ws(r);
    if (r->p >= r->end) return 0;
    if (*r->p == ',') { r->p++; return 1; }
    if (*r->p == close) { r->p++; return 2; }
    return 0;
}

/* A key of an object whose keys must all differ (orjson would keep the last of two: the copy
 * test compares bytes with orjson's output, so such a line is the Python loop's): 0 when the key
 * is bad, seen before in `keys` or one too many. */
static int unique_key(Rd *r, Str *keys, int *n, int cap, Str *k)
{
    if (!key(r, k) || *n == cap) return 0;
    for (int i = 0; i < *n; i++)
        if (keys[i].n == k->n && memcmp(keys[i].s, k->s, (size_t)k->n) == 0) return 0;
    keys[(*n)++] = *k;
    return 1;
}

/* Whether orjson.dumps(loads(bytes)) gives the same bytes back: compact, no escapes, no
 * duplicate keys, integers written plainly (the copy test compares raw bytes with that). */
static int canonical(const unsigned char *s, const unsigned char *e)
{
    for (const unsigned char *p = s; p < e; p++) {
        unsigned c = *p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\\') return 0;
        if (c == '-' && p + 1 < e && p[1] == '0') return 0;        /* -0 is written 0 */
    }
    return 1;
}

static int counter(Rd *r, long long *out, int *have)
{
    int neg;
    if (r->p >= r->end) return 0;
    unsigned c = *r->p;
    if (c == 'n') {                       /* null: 0, as a missing counter */
        return 0;                         /* (_counts takes the careful path: let Python) */
    }
    if (!(c == '-' || (c >= '0' && c <= '9'))) return 0;
    if (!integer(r, out, &neg) || neg) return 0;
    *have = 1;
    return 1;
}

/* usage: {...}. Unknown members are checked and skipped; duplicate keys send the line away. */
static int usage_obj(Rd *r, Line *L, int depth)
{
    Str keys[24];
    int nkeys = 0;
    const unsigned char *start = r->p;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') { r->p++; goto done; }
    for (;;) {
        Str k;
        if (!unique_key(r, keys, &nkeys, 24, &k)) return 0;
        if (KEY_IS(k, "input_tokens")) { if (!counter(r, &L->input, &L->have_input)) return 0; }
        else if (KEY_IS(k, "cache_read_input_tokens")) { if (!counter(r, &L->cache_read, &L->have_cache_read)) return 0; }
        else if (KEY_IS(k, "cache_creation_input_tokens")) { if (!counter(r, &L->writes, &L->have_writes)) return 0; }
        else if (KEY_IS(k, "output_tokens")) { if (!counter(r, &L->output, &L->have_output)) return 0; }
        else if (KEY_IS(k, "speed")) {
            int kind;
            if (!value(r, depth + 1, &kind, &L->speed, NULL)) return 0;
            L->speed_kind = kind;
        } else if (KEY_IS(k, "cache_creation")) {
            if (r->p < r->end && *r->p == '{') {
                /* {"ephemeral_1h_input_tokens": n, ...}: the 1-hour part; others skipped */
                Str sub[16];
                int nsub = 0;
                r->p++;
                L->split_kind = V_OBJ;
                ws(r);
                if (r->p < r->end && *r->p == '}') r->p++;
                else for (;;) {
                    Str k2;
                    if (!unique_key(r, sub, &nsub, 16, &k2)) return 0;
                    if (KEY_IS(k2, "ephemeral_1h_input_tokens")) {
                        if (!counter(r, &L->w1h, &L->have_w1h)) return 0;
                    } else {
                        int kind;
                        if (!value(r, depth + 2, &kind, NULL, NULL)) return 0;
                    }
                    int nx = next(r, '}');
                    if (nx == 0) return 0;
                    if (nx == 2) break;
                }
            } else {
                int kind;
                if (!value(r, depth + 1, &kind, NULL, NULL)) return 0;
                L->split_kind = kind;
            }
        } else {
            int kind;
            if (!value(r, depth + 1, &kind, NULL, NULL)) return 0;
        }
        int nx = next(r, '}');
        if (nx == 0) return 0;
        if (nx == 2) break;
    }
done:
    L->usage_start = start;
    L->usage_end = r->p;
    L->usage_kind = V_OBJ;
    L->usage_canonical = canonical(start, r->p);
    return 1;
}

static int message_obj(Rd *r, Line *L, int depth)
{
    unsigned seen = 0;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') { r->p++; return 1; }
    for (;;) {
        Str k;
        unsigned bit = 0;
        if (!key(r, &k)) return 0;
        int kind;
        if (KEY_IS(k, "id")) { bit = 1; if (!value(r, depth + 1, &L->id_kind, &L->id, NULL)) return 0; }
        else if (KEY_IS(k, "model")) { bit = 2; if (!value(r, depth + 1, &L->model_kind, &L->model, NULL)) return 0; }
        else if (KEY_IS(k, "usage")) {
            bit = 4;
            if (r->p < r->end && *r->p == '{') { if (!usage_obj(r, L, depth + 1)) return 0; }
            else { if (!value(r, depth + 1, &L->usage_kind, NULL, NULL)) return 0; }
        } else if (KEY_IS(k, "content")) {
            bit = 8;
            if (!value(r, depth + 1, &kind, NULL, NULL)) return 0;
            L->has_content = 1;
            L->content_empty = kind == V_EMPTY_ARR;
        } else {
            if (!value(r, depth + 1, &kind, NULL, NULL)) return 0;
        }
        if (bit) {
            if (seen & bit) return 0;       /* a field twice: orjson keeps the last; let it */
            seen |= bit;
        }
        int nx = next(r, '}');
        if (nx == 0) return 0;
        if (nx == 2) return 1;
    }
}

/* The whole (cut) line: 1 when every field the loop reads was found with certainty. */
static int read_line(const unsigned char *s, const unsigned char *e, Line *L)
{
    Rd r = {s, e, 0};
    unsigned seen = 0;
    memset(L, 0, sizeof *L);
    ws(&r);
    if (r.p >= r.end || *r.p != '{') return 0;
    r.p++;
    ws(&r);
    if (r.p < r.end && *r.p == '}') return 0;   /* {}: no message */
    for (;;) {
        Str k;
        unsigned bit = 0;
        int kind;
        if (!key(&r, &k)) return 0;
        if (KEY_IS(k, "message")) {
            bit = 1;
            if (r.p >= r.end || *r.p != '{') return 0;
            if (!message_obj(&r, L, 1)) return 0;
            L->message = 1;
        }
        else if (KEY_IS(k, "requestId")) { bit = 2; if (!value(&r, 1, &L->req_kind, &L->req, NULL)) return 0; }
        else if (KEY_IS(k, "isSidechain")) { bit = 4; if (!value(&r, 1, &L->side_kind, NULL, NULL)) return 0; }
        else if (KEY_IS(k, "isApiErrorMessage")) { bit = 8; if (!value(&r, 1, &L->err_kind, NULL, NULL)) return 0; }
        else if (KEY_IS(k, "timestamp")) { bit = 16; if (!value(&r, 1, &L->ts_kind, &L->ts, NULL)) return 0; }
        else if (KEY_IS(k, "sessionId")) { bit = 32; if (!value(&r, 1, &L->sess_kind, &L->sess, NULL)) return 0; }
        else if (KEY_IS(k, "cwd")) { bit = 64; if (!value(&r, 1, &L->cwd_kind, &L->cwd, NULL)) return 0; }
        else if (KEY_IS(k, "gitBranch")) { bit = 128; if (!value(&r, 1, &L->branch_kind, &L->branch, NULL)) return 0; }
        else if (KEY_IS(k, "costUSD")) { bit = 256; if (!value(&r, 1, &L->cost_kind, NULL, NULL)) return 0; }
        else { if (!value(&r, 1, &kind, NULL, NULL)) return 0; }
        if (bit) {
            if (seen & bit) return 0;
            seen |= bit;
        }
        int nx = next(&r, '}');
        if (nx == 0) return 0;
        if (nx == 2) break;
    }
    ws(&r);
    return r.p == r.end;
}

/* A captured string as str: escapes other than \u decoded here; None when it cannot be. */
static PyObject *text(const Str *s)
{
    if (!s->esc) {
        return s->ascii ? PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, s->s, s->n)
                        : PyUnicode_DecodeUTF8((const char *)s->s, s->n, "strict");
    }
    char *tmp = PyMem_Malloc((size_t)s->n + 1);
    if (!tmp) return PyErr_NoMemory();
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        unsigned char c = s->s[i];
        if (c != '\\') { tmp[n++] = (char)c; continue; }
        unsigned char e = s->s[++i];
        switch (e) {
        case '"': tmp[n++] = '"'; break;
        case '\\': tmp[n++] = '\\'; break;
        case '/': tmp[n++] = '/'; break;
        case 'b': tmp[n++] = '\b'; break;
        case 'f': tmp[n++] = '\f'; break;
        case 'n': tmp[n++] = '\n'; break;
        case 'r': tmp[n++] = '\r'; break;
        case 't': tmp[n++] = '\t'; break;
        default: PyMem_Free(tmp); Py_RETURN_NONE;      /* \uXXXX: the Python loop's */
        }
    }
    PyObject *out = PyUnicode_DecodeUTF8(tmp, n, "strict");
    PyMem_Free(tmp);
    return out;
}

/* Epoch ms of `YYYY-MM-DDTHH:MM:SS.mmmZ` exactly as claude._ts computes it; -1 otherwise. */
static long long ts_ms(const Str *s)
{
    static const int month_days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s->esc || !s->ascii || s->n != 24) return -1;
    const unsigned char *t = s->s;
    static const int digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22};
    for (size_t i = 0; i < sizeof digit_at / sizeof digit_at[0]; i++)
        if (t[digit_at[i]] < '0' || t[digit_at[i]] > '9') return -1;
    if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' || t[23] != 'Z')
        return -1;
#define D(i) (t[i] - '0')
    long long y = D(0) * 1000 + D(1) * 100 + D(2) * 10 + D(3), mo = D(5) * 10 + D(6), d = D(8) * 10 + D(9);
    long long h = D(11) * 10 + D(12), mi = D(14) * 10 + D(15), sec = D(17) * 10 + D(18);
    long long ms = D(20) * 100 + D(21) * 10 + D(22);
#undef D
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return -1;   /* fields.epoch_ms's */
    int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (d > month_days[mo] + (mo == 2 && leap)) return -1;
    long long yy = y - (mo <= 2);
    long long era = yy / 400;              /* yy >= 0 */
    long long yoe = yy - era * 400;
    long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return days * 86400000LL + h * 3600000LL + mi * 60000LL + sec * 1000LL + ms;
}

typedef struct {
    unsigned char *b;
    size_t cap;
} Scratch;

static int scratch_fit(Scratch *s, size_t n)
{
    if (n <= s->cap) return 1;
    size_t cap = n < 65536 ? 65536 : n * 2;
    unsigned char *b = PyMem_Realloc(s->b, cap);
    if (!b) return 0;
    s->b = b;
    s->cap = cap;
    return 1;
}

/* One line, as the Python loop reads it once it is not a copy: 1 done (taken or skipped),
 * 0 the Python loop's, -1 a Python error. */
static int take(const char *buf, Py_ssize_t n, Py_ssize_t start, Py_ssize_t hit, Py_ssize_t end, Scratch *sc,
                PyObject *ranks, PyObject *best, PyObject **copy_of, int is_subagent, PyObject *parent_session,
                PyObject *row_type)
{
    /* _without_content's cut */
    Py_ssize_t c = find(buf, n, CONTENT_OPEN, LEN(CONTENT_OPEN), start, hit < start + HEAD ? hit : start + HEAD);
    if (c < 0) return 0;
    c += LEN(CONTENT_OPEN) - 1;
    Py_ssize_t e = rfind(buf, n, CONTENT_CLOSE, LEN(CONTENT_CLOSE), c, hit);
    if (e < 0) return 0;
    size_t a = (size_t)(c - start), z = (size_t)(end - (e + 1));
    if (!scratch_fit(sc, a + 2 + z)) { PyErr_NoMemory(); return -1; }
    memcpy(sc->b, buf + start, a);
    sc->b[a] = '[';
    sc->b[a + 1] = ']';
    memcpy(sc->b + a + 2, buf + e + 1, z);
    Line L;
    if (!read_line(sc->b, sc->b + a + 2 + z, &L)) return 0;
    /* what _without_content asks of the message, and the loop's first tests */
    if (!L.message || !L.has_content || !L.content_empty || !L.id_kind || !L.model_kind || !L.usage_kind) return 0;
    if (L.usage_kind != V_OBJ) return 0;              /* null or another value: the loop decides */
    if (L.id_kind != V_STR || L.id.n == 0) return 0;  /* (requestId fallback: the loop's) */
    if (L.model_kind != V_STR && L.model_kind != V_NULL) return 0;
    if (L.cost_kind == V_INT) return 0;               /* a number: float() is the loop's */
    /* strings compared or sent as their bytes: no escapes */
    if (L.id.esc || (L.model_kind == V_STR && L.model.esc)) return 0;
    if (!L.usage_canonical) return 0;
    if (L.split_kind == V_OBJ && !L.have_w1h) L.w1h = 0;
    int sidechain = L.side_kind == V_TRUE;
    if (L.model_kind == V_STR && L.model.n == 11 && !L.model.esc && memcmp(L.model.s, "<synthetic>", 11) == 0)
        return 1;
    if (L.err_kind == V_TRUE) return 1;
    /* _counts: missing counters are 0; the 1-hour part must not exceed the writes */
    long long uncached = L.have_input ? L.input : 0, cache_read = L.have_cache_read ? L.cache_read : 0;
    long long writes = L.have_writes ? L.writes : 0, output = L.have_output ? L.output : 0;
    long long w1h = (L.split_kind == V_OBJ && L.have_w1h) ? L.w1h : 0;
    if (w1h > writes) return 0;
    long long total = uncached + cache_read + writes + output;   /* w5m + w1h = writes */
    const long long cap = (1LL << 48) - 1;
    long long rank = (sidechain ? 0 : (1LL << 48)) | (total < cap ? total : cap);

    PyObject *k = text(&L.id);
    if (!k) return -1;
    if (k == Py_None) { Py_DECREF(k); return 0; }
    PyObject *prev = PyDict_GetItemWithError(ranks, k);
    if (prev) {
        long long pr = PyLong_AsLongLong(prev);
        if (pr == -1 && PyErr_Occurred()) { Py_DECREF(k); return -1; }
        if (pr >= rank) { Py_DECREF(k); return 1; }
    } else if (PyErr_Occurred()) { Py_DECREF(k); return -1; }
    long long ts = L.ts_kind == V_STR ? ts_ms(&L.ts) : -1;
    if (ts < 0) { Py_DECREF(k); return 0; }           /* another shape, or none: the loop's */
    /* speed: None or 'standard' -> None; a string -> its first 32 characters; else None */
    PyObject *speed = NULL;
    if (L.speed_kind == V_STR && !(L.speed.n == 8 && !L.speed.esc && memcmp(L.speed.s, "standard", 8) == 0)) {
        if (L.speed.esc || !L.speed.ascii) { Py_DECREF(k); return 0; }
        if (L.speed.n == 0) { speed = Py_None; Py_INCREF(speed); }
        else speed = PyUnicode_FromStringAndSize((const char *)L.speed.s, L.speed.n > 32 ? 32 : L.speed.n);
    } else {
        speed = Py_None;
        Py_INCREF(speed);
    }
    PyObject *model = NULL, *session = NULL, *project = NULL, *branch = NULL, *row = NULL, *args = NULL;
    PyObject *rank_obj = NULL, *c0 = NULL, *c1 = NULL, *new_copy = NULL;
    int rc = -1;
    if (!speed) goto out;
#define STR_OR_NONE(dst, kind, s)                                            \
    if ((kind) == V_STR && (s).n > 0) {                                      \
        dst = text(&(s));                                                    \
        if (!dst) goto out;                                                  \
        if (dst == Py_None) { rc = 0; goto out; }                           \
    } else { dst = Py_None; Py_INCREF(dst); }
    STR_OR_NONE(model, L.model_kind, L.model);
    if (parent_session != Py_None && PyObject_IsTrue(parent_session)) { session = parent_session; Py_INCREF(session); }
    else { STR_OR_NONE(session, L.sess_kind, L.sess); }
    STR_OR_NONE(project, L.cwd_kind, L.cwd);
    STR_OR_NONE(branch, L.branch_kind, L.branch);
#undef STR_OR_NONE
    args = Py_BuildValue("(sOLOOOLLiLLLOOOOO)", "claude", k, ts, session, project, model,
                         uncached, output, 0, cache_read, writes - w1h, w1h,
                         sidechain ? Py_True : Py_False, is_subagent ? Py_True : Py_False, branch, Py_None, speed);
    if (!args) goto out;
    row = PyObject_Call(row_type, args, NULL);
    if (!row) goto out;
    rank_obj = PyLong_FromLongLong(rank);
    if (!rank_obj || PyDict_SetItem(ranks, k, rank_obj) < 0 || PyDict_SetItem(best, k, row) < 0) goto out;
    /* copy_of = (b'"usage":' + usage bytes, b'"id":"' + key bytes + b'"', sidechain) */
    Py_ssize_t ulen = (Py_ssize_t)(L.usage_end - L.usage_start);
    c0 = PyBytes_FromStringAndSize(NULL, LEN(USAGE_KEY) + ulen);
    c1 = PyBytes_FromStringAndSize(NULL, 6 + L.id.n + 1);
    if (!c0 || !c1) goto out;
    memcpy(PyBytes_AS_STRING(c0), USAGE_KEY, LEN(USAGE_KEY));
    memcpy(PyBytes_AS_STRING(c0) + LEN(USAGE_KEY), L.usage_start, (size_t)ulen);
    memcpy(PyBytes_AS_STRING(c1), "\"id\":\"", 6);
    memcpy(PyBytes_AS_STRING(c1) + 6, L.id.s, (size_t)L.id.n);   /* no escapes: key.encode() */
    PyBytes_AS_STRING(c1)[6 + L.id.n] = '"';
    new_copy = PyTuple_Pack(3, c0, c1, sidechain ? Py_True : Py_False);
    if (!new_copy) goto out;
    Py_XSETREF(*copy_of, new_copy);
    new_copy = NULL;
    rc = 1;
out:
    Py_XDECREF(k); Py_XDECREF(speed); Py_XDECREF(model); Py_XDECREF(session); Py_XDECREF(project);
    Py_XDECREF(branch); Py_XDECREF(args); Py_XDECREF(row); Py_XDECREF(rank_obj); Py_XDECREF(c0);
    Py_XDECREF(c1); Py_XDECREF(new_copy);
    return rc;
}

/* Reads usage lines from *pos, updating ranks and best (key -> rank, key -> row) and *copy_of
 * (the last row's marker: None or (b'"usage":' + usage bytes, b'"id":"' + key + b'"', sidechain)).
 * Returns 0 at the end of the buffer, 1 at a line _line must read (slow[] = start, hit, end;
 * *pos = the byte after it), -1 on a Python error. */
static int run_core(const char *buf, Py_ssize_t n, Py_ssize_t *pos_io, PyObject **copy_of, PyObject *ranks,
                    PyObject *best, int is_subagent, PyObject *parent_session, PyObject *row_type,
                    Scratch *sc, Py_ssize_t slow[3])
{
    Py_ssize_t pos = *pos_io;
    int rc = 0;
    for (;;) {
        /* prompts and tool results are passed over: see py_parse_lines */
        for (;;) {
            Py_ssize_t head = find(buf, n, USER_HEAD, LEN(USER_HEAD), pos, pos + HEAD);
            if (head < 0 || find_byte(buf, n, '{', pos + 1, head) >= 0 || find_byte(buf, n, '\n', pos, head) >= 0)
                break;
            Py_ssize_t nl = find_byte(buf, n, '\n', head, n);
            if (nl < 0 || find_usage(buf, n, head > nl - TAIL ? head : nl - TAIL, nl) >= 0)
                break;
            pos = nl + 1;
        }
        Py_ssize_t hit = find_usage(buf, n, pos, n);
        if (hit < 0) break;
        const char *nl = hit > 0 ? memrchr(buf, '\n', (size_t)hit) : NULL;
        Py_ssize_t start = nl ? nl - buf + 1 : 0;
        Py_ssize_t end = find_byte(buf, n, '\n', hit, n);
        if (end < 0) end = n;
        pos = end + 1;
        if (buf[end - 1] == 13) end -= 1;
        PyObject *c = *copy_of;
        if (c != Py_None && PyTuple_Check(c) && PyTuple_GET_SIZE(c) == 3) {
            PyObject *c0 = PyTuple_GET_ITEM(c, 0), *c1 = PyTuple_GET_ITEM(c, 1);
            if (PyBytes_Check(c0) && PyBytes_Check(c1)) {
                Py_ssize_t l0 = PyBytes_GET_SIZE(c0);
                if (n - hit >= l0 && memcmp(buf + hit, PyBytes_AS_STRING(c0), (size_t)l0) == 0
                    && find(buf, n, PyBytes_AS_STRING(c1), PyBytes_GET_SIZE(c1), start, end) > 0
                    && ((find(buf, n, SIDECHAIN_TRUE, LEN(SIDECHAIN_TRUE), start, end) > 0)
                        == (PyTuple_GET_ITEM(c, 2) == Py_True)))
                    continue;
            }
        }
        int got = take(buf, n, start, hit, end, sc, ranks, best, copy_of, is_subagent, parent_session, row_type);
        if (got < 0) { rc = -1; break; }
        if (got == 0) {
            slow[0] = start; slow[1] = hit; slow[2] = end;
            rc = 1;
            break;
        }
    }
    *pos_io = pos;
    return rc;
}

static long long count_shape_bad(const unsigned char *b, Py_ssize_t n);

static PyObject *parse_lines(PyObject *self, PyObject *args)
{
    PyObject *bufobj, *parent_session;
    int is_subagent;
    if (!PyArg_ParseTuple(args, "OpO", &bufobj, &is_subagent, &parent_session))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(bufobj, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *buf = view.buf;
    Py_ssize_t n = view.len, pos = 0, slow[3];
    long long bad = count_shape_bad((const unsigned char *)buf, n);
    Scratch sc = {NULL, 0};
    PyObject *reader = NULL, *line = NULL, *row_type = NULL, *ranks = NULL, *best = NULL, *result = NULL;
    PyObject *copy_of = Py_None;
    Py_INCREF(copy_of);
    /* the reader's _line (what a line this loop cannot read goes to) and row type, looked up at
     * each call, so a test that wraps _line sees every line handed over */
    reader = PyImport_ImportModule("token_roi.adapters.claude.reader");
    if (!reader) goto done;
    line = PyObject_GetAttrString(reader, "_line");
    row_type = line ? PyObject_GetAttrString(reader, "UsageRow") : NULL;
    ranks = row_type ? PyDict_New() : NULL;
    best = ranks ? PyDict_New() : NULL;
    if (!best) goto done;
    for (;;) {
        int got = run_core(buf, n, &pos, &copy_of, ranks, best, is_subagent, parent_session, row_type, &sc, slow);
        if (got < 0) goto done;
        if (got == 0) break;
        PyObject *r = PyObject_CallFunction(line, "OnnnOOOOO", bufobj, slow[0], slow[1], slow[2], best, ranks,
                                            copy_of, is_subagent ? Py_True : Py_False, parent_session);
        if (!r) goto done;
        if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != 2) {
            Py_DECREF(r);
            PyErr_SetString(PyExc_TypeError, "_line must return (bad lines, copy marker)");
            goto done;
        }
        long long more = PyLong_AsLongLong(PyTuple_GET_ITEM(r, 0));
        if (more == -1 && PyErr_Occurred()) { Py_DECREF(r); goto done; }
        bad += more;
        Py_INCREF(PyTuple_GET_ITEM(r, 1));
        Py_SETREF(copy_of, PyTuple_GET_ITEM(r, 1));
        Py_DECREF(r);
    }
    PyObject *rows = PyDict_Values(best);
    if (rows) {
        result = Py_BuildValue("(NL)", rows, bad);
    }
done:
    Py_XDECREF(copy_of);
    Py_XDECREF(reader); Py_XDECREF(line); Py_XDECREF(row_type); Py_XDECREF(ranks); Py_XDECREF(best);
    PyMem_Free(sc.b);
    PyBuffer_Release(&view);
    return result;
}

/* _shape_bad's count: lines that cannot be a JSON object (not {...}), blank lines aside. */
static long long count_shape_bad(const unsigned char *b, Py_ssize_t n)
{
    Py_ssize_t pos = 0;
    long long bad = 0;
    for (;;) {
        const unsigned char *p = memchr(b + pos, '\n', (size_t)(n - pos));
        if (!p) break;
        Py_ssize_t end = p - b;
        if (end > pos) {
            Py_ssize_t last = (b[end - 1] == 13 && end - 1 > pos) ? end - 1 : end;
            if (b[pos] != '{' || b[last - 1] != '}') {
                /* line.strip(): bytes.strip() takes ASCII whitespace (space, \t\n\r\v\f) */
                Py_ssize_t s = pos, e = end;
                while (s < e && (b[s] == ' ' || (b[s] >= 9 && b[s] <= 13))) s++;
                while (e > s && (b[e - 1] == ' ' || (b[e - 1] >= 9 && b[e - 1] <= 13))) e--;
                if (e > s && !(b[s] == '{' && b[e - 1] == '}')) bad++;
            }
        }
        pos = end + 1;
    }
    return bad;
}

static PyMethodDef methods[] = {
    {"parse_lines", parse_lines, METH_VARARGS,
     "parse_lines(buf, is_subagent, parent_session) -> (rows, bad lines): reader.py_parse_lines in C."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_claude_scan", NULL, -1, methods};

PyMODINIT_FUNC PyInit__claude_scan(void) { return PyModule_Create(&module); }
