/* The dex reader's two hot loops in C: class_data decoding and the index of reference-carrying
 * instructions. auditor/dex/reader.py holds the pure-Python forms of both, which define the
 * results; this module must return exactly what they return (tests/test_dex_native.py compares
 * them on every fixture and on hostile inputs). It is optional: without a C compiler the package
 * installs without it and the reader runs in Python.
 *
 * Every read is bounds-checked against the buffer: the input is hostile by assumption.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Status codes of one class_data_item, mirrored by reader.py. */
#define ITEM_CLAIMS_TOO_MUCH 1  /* more entries than bytes before the next item */
#define ITEM_RUNS_INTO_NEXT 2   /* fewer LEB128 values than entries before the next item */
#define ITEM_PAST_END 3         /* a count runs past the end of the file (DexFormatError) */

/* One LEB128 count as reader._uleb reads it: at most five bytes, bounded by the file. */
static int read_count(const uint8_t *data, uint64_t size, uint64_t *pos, uint64_t *value) {
    uint64_t result = 0;
    unsigned shift = 0;
    for (;;) {
        if (*pos >= size) return -1;
        uint8_t byte = data[(*pos)++];
        result |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80 || shift >= 28) break;
        shift += 7;
    }
    *value = result;
    return 0;
}

/* One token of reader._ULEB_TOKEN ([\x80-\xff]{0,4}[\x00-\x7f] | [\x80-\xff]{5}) at *pos, below stop.
 * Returns -1 when no token starts here; the regex would then find none further either, since only
 * high bytes remain before stop. */
static int read_token(const uint8_t *data, uint64_t stop, uint64_t *pos, uint64_t *value) {
    uint64_t p = *pos, result = 0;
    for (unsigned k = 0; k < 5; k++) {
        if (p + k >= stop) return -1;
        uint8_t byte = data[p + k];
        result |= (uint64_t)(byte & 0x7F) << (7 * k);
        if (byte < 0x80 || k == 4) {
            *pos = p + k + 1;
            *value = result;
            return 0;
        }
    }
    return -1;
}

typedef struct {
    uint64_t *rows;  /* (method_idx, start, end) triples */
    size_t len, cap;  /* in triples */
} Table;

static int table_push(Table *t, uint64_t idx, uint64_t start, uint64_t end) {
    if (t->len == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        uint64_t *grown = PyMem_RawRealloc(t->rows, cap * 3 * sizeof *grown);
        if (grown == NULL) return -1;
        t->rows = grown;
        t->cap = cap;
    }
    t->rows[3 * t->len] = idx;
    t->rows[3 * t->len + 1] = start;
    t->rows[3 * t->len + 2] = end;
    t->len++;
    return 0;
}

/* The methods with code of one class_data_item at off (limit: where the next item starts), appended
 * to the table; 0, a status (1, 2, 3: nothing appended), or -1 when memory ran out. */
static int parse_item(const uint8_t *data, uint64_t size, uint64_t off, uint64_t limit, Table *table) {
    uint64_t pos = off, static_n, inst_n, direct_n, virtual_n;
    if (read_count(data, size, &pos, &static_n) || read_count(data, size, &pos, &inst_n) ||
        read_count(data, size, &pos, &direct_n) || read_count(data, size, &pos, &virtual_n))
        return ITEM_PAST_END;
    uint64_t fields = 2 * (static_n + inst_n);
    uint64_t entries = direct_n + virtual_n;
    uint64_t need = fields + 3 * entries;
    if (pos > limit || need > limit - pos) return ITEM_CLAIMS_TOO_MUCH;
    if (entries == 0) return 0;
    uint64_t stop = pos + 5 * need < limit ? pos + 5 * need : limit;
    uint64_t value;
    for (uint64_t k = 0; k < fields; k++)
        if (read_token(data, stop, &pos, &value)) return ITEM_RUNS_INTO_NEXT;
    size_t first = table->len;
    uint64_t method_idx = 0, last = size >= 16 ? size - 16 : 0;
    for (uint64_t k = 0; k < entries; k++) {
        uint64_t step, flags, code_off;
        if (read_token(data, stop, &pos, &step) || read_token(data, stop, &pos, &flags) ||
            read_token(data, stop, &pos, &code_off)) {
            table->len = first;
            return ITEM_RUNS_INTO_NEXT;
        }
        method_idx = k == direct_n ? step : method_idx + step;
        if (code_off == 0 || code_off > last || size < 16) continue;
        uint64_t units = (uint64_t)data[code_off + 12] | ((uint64_t)data[code_off + 13] << 8) |
                         ((uint64_t)data[code_off + 14] << 16) | ((uint64_t)data[code_off + 15] << 24);
        uint64_t end = code_off + 16 + 2 * units;
        if (table_push(table, method_idx, code_off + 16, end < size ? end : size)) return -1;
    }
    return 0;
}

static PyObject *table_bytes(const Table *t) {
    return PyBytes_FromStringAndSize(t->len ? (const char *)t->rows : "", (Py_ssize_t)(t->len * 3 * sizeof(uint64_t)));
}

PyDoc_STRVAR(method_table_doc,
"method_table(data, offsets) -> (outcomes, table)\n\n"
"The methods with code of each class_data_item offset (sorted, unique, below len(data)), as rows\n"
"of the table (bytes of native u64 triples: method_idx, start, end) in the items' order; outcomes\n"
"says per item how many rows it added, or its status negated (-1: claims too much, -2: runs into\n"
"the next item, -3: a count runs past the end of the file; the list stops there). The rows are\n"
"the MethodCode tuples DexFile._class_data_python makes.");

static PyObject *method_table(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    PyObject *offsets;
    if (!PyArg_ParseTuple(args, "y*O!", &buf, &PyList_Type, &offsets)) return NULL;
    const uint8_t *data = buf.buf;
    uint64_t size = (uint64_t)buf.len;
    Py_ssize_t count = PyList_GET_SIZE(offsets);
    Table table = {0};
    PyObject *outcomes = PyList_New(0), *result = NULL;
    for (Py_ssize_t i = 0; outcomes != NULL && i < count; i++) {
        uint64_t off = PyLong_AsUnsignedLongLong(PyList_GET_ITEM(offsets, i));
        uint64_t limit = i + 1 < count ? PyLong_AsUnsignedLongLong(PyList_GET_ITEM(offsets, i + 1)) : size;
        if (PyErr_Occurred() || off >= size || limit > size) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "offsets must be sorted and inside the data");
            goto done;
        }
        size_t before = table.len;
        int status = parse_item(data, size, off, limit, &table);
        if (status < 0) {
            PyErr_NoMemory();
            goto done;
        }
        PyObject *outcome = PyLong_FromLongLong(status ? -(long long)status : (long long)(table.len - before));
        if (outcome == NULL || PyList_Append(outcomes, outcome)) {
            Py_XDECREF(outcome);
            goto done;
        }
        Py_DECREF(outcome);
        if (status == ITEM_PAST_END) break;
    }
    if (outcomes != NULL) {
        PyObject *rows = table_bytes(&table);
        if (rows != NULL) result = PyTuple_Pack(2, outcomes, rows);
        Py_XDECREF(rows);
    }
done:
    Py_XDECREF(outcomes);
    PyMem_RawFree(table.rows);
    PyBuffer_Release(&buf);
    return result;
}

typedef struct {
    uint64_t start;
    size_t seq;
} Placed;

static int by_start_then_seq(const void *a, const void *b) {
    const Placed *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

PyDoc_STRVAR(code_index_doc,
"code_index(table) -> (sorted_table, code_end)\n\n"
"The rows of a method table (method_table's) sorted by start, one per start (the last listed\n"
"wins), and the largest end: DexFile._code_ranges.");

static PyObject *code_index(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    const uint64_t *rows = buf.buf;
    size_t n = (size_t)buf.len / (3 * sizeof(uint64_t));
    PyObject *result = NULL;
    Placed *placed = PyMem_RawMalloc((n ? n : 1) * sizeof *placed);
    Table out = {0};
    if (placed == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int ordered = 1;
    for (size_t i = 0; i < n; i++) {
        placed[i].start = rows[3 * i + 1];
        placed[i].seq = i;
        if (i && placed[i].start <= placed[i - 1].start) ordered = 0;
    }
    if (!ordered) qsort(placed, n, sizeof *placed, by_start_then_seq);
    uint64_t code_end = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && placed[i + 1].start == placed[i].start) continue;  /* a later one at the same start wins */
        const uint64_t *row = rows + 3 * placed[i].seq;
        if (row[2] > code_end) code_end = row[2];
        if (table_push(&out, row[0], row[1], row[2])) {
            PyErr_NoMemory();
            goto done;
        }
    }
    PyObject *sorted_rows = table_bytes(&out);
    if (sorted_rows != NULL) result = Py_BuildValue("(NK)", sorted_rows, (unsigned long long)code_end);
done:
    PyMem_RawFree(placed);
    PyMem_RawFree(out.rows);
    PyBuffer_Release(&buf);
    return result;
}

/* reader.payload_units: the width of a switch/array payload, 1 for an unknown or cut-off one. */
static uint64_t payload_units(const uint8_t *data, uint64_t size, uint64_t pos) {
    uint8_t ident = data[pos + 1];
    if (ident == 0x01 || ident == 0x02) {
        if (pos + 4 > size) return 1;
        uint64_t n = (uint64_t)data[pos + 2] | ((uint64_t)data[pos + 3] << 8);
        return ident == 0x01 ? 4 + 2 * n : 2 + 4 * n;
    }
    if (ident == 0x03) {
        if (pos + 8 > size) return 1;
        uint64_t width = (uint64_t)data[pos + 2] | ((uint64_t)data[pos + 3] << 8);
        uint64_t n = (uint64_t)data[pos + 4] | ((uint64_t)data[pos + 5] << 8) |
                     ((uint64_t)data[pos + 6] << 16) | ((uint64_t)data[pos + 7] << 24);
        return 4 + (width * n + 1) / 2;
    }
    return 1;
}

typedef struct {
    uint32_t *offsets, *indices;
    uint8_t *ops;
    size_t len, cap;
} Records;

static int records_push(Records *r, uint32_t offset, uint32_t index, uint8_t op) {
    if (r->len == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 4096;
        uint32_t *o = PyMem_RawRealloc(r->offsets, cap * sizeof *o);
        if (o) r->offsets = o;
        uint32_t *x = PyMem_RawRealloc(r->indices, cap * sizeof *x);
        if (x) r->indices = x;
        uint8_t *p = PyMem_RawRealloc(r->ops, cap);
        if (p) r->ops = p;
        if (!o || !x || !p) return -1;
        r->cap = cap;
    }
    r->offsets[r->len] = offset;
    r->indices[r->len] = index;
    r->ops[r->len++] = op;
    return 0;
}

PyDoc_STRVAR(opcode_set_doc,
"opcode_set(data, start, end, units) -> bytes\n\n"
"The distinct opcodes of the real instructions in data[start:end] (a method's code), ascending,\n"
"walked as DexFile._walk walks it (switch and array payloads stepped over); units is the width\n"
"table: DexFile.opcodes.");

static PyObject *opcode_set(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    unsigned long long start, stop;
    const char *units_raw;
    Py_ssize_t units_len;
    if (!PyArg_ParseTuple(args, "y*KKy#", &buf, &start, &stop, &units_raw, &units_len)) return NULL;
    if (units_len != 256) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "opcode_set: bad width table");
        return NULL;
    }
    const uint8_t *data = buf.buf, *units = (const uint8_t *)units_raw;
    uint64_t size = (uint64_t)buf.len, pos = start, end = stop < size ? stop : size;
    uint8_t seen[256] = {0};
    while (pos + 2 <= end) {
        uint8_t op = data[pos];
        uint64_t width;
        if (op == 0 && data[pos + 1]) {
            width = payload_units(data, size, pos);
        } else {
            width = units[op];
            seen[op] = 1;
        }
        pos += 2 * (width ? width : 1);
    }
    char found[256];
    Py_ssize_t n = 0;
    for (int op = 0; op < 256; op++)
        if (seen[op]) found[n++] = (char)op;
    PyBuffer_Release(&buf);
    return PyBytes_FromStringAndSize(found, n);
}

PyDoc_STRVAR(ref_records_doc,
"ref_records(data, table, units, ref_ops, jumbo_op) -> (offsets, indices, ops) | None\n\n"
"Every reference-carrying instruction of the methods of a sorted method table (code_index's),\n"
"walked as DexFile.decode walks one method; units is the width table, ref_ops a 256-byte 0/1\n"
"table. Returns three bytes objects (u32 offsets, u32 indices, u8 opcodes), or None when the code\n"
"items overlap or start at odd offsets, or the file is 4 GB or more (then the caller searches in\n"
"Python, which defines what such a layout means).");

static PyObject *ref_records(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf, tbuf;
    const char *units_raw, *ref_ops_raw;
    Py_ssize_t units_len, ref_ops_len;
    int jumbo;
    if (!PyArg_ParseTuple(args, "y*y*y#y#i", &buf, &tbuf, &units_raw, &units_len, &ref_ops_raw, &ref_ops_len, &jumbo))
        return NULL;
    PyObject *result = NULL;
    Records r = {0};
    uint64_t *spans = NULL;
    const uint8_t *data = buf.buf, *units = (const uint8_t *)units_raw, *ref_ops = (const uint8_t *)ref_ops_raw;
    const uint64_t *rows = tbuf.buf;
    uint64_t size = (uint64_t)buf.len, previous_end = 0;
    Py_ssize_t count = tbuf.len / (Py_ssize_t)(3 * sizeof(uint64_t));
    if (units_len != 256 || ref_ops_len != 256) {
        PyErr_SetString(PyExc_ValueError, "ref_records: bad tables");
        goto done;
    }
    spans = PyMem_RawMalloc((size_t)(count ? count : 1) * 2 * sizeof *spans);
    if (spans == NULL) goto nomem;
    for (Py_ssize_t i = 0; i < count; i++) {  /* the layout first: nothing is walked unless all of it is plain */
        uint64_t start = rows[3 * i + 1], end = rows[3 * i + 2];
        if (size > UINT32_MAX || start & 1 || (i && start < previous_end)) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        previous_end = end;
        spans[2 * i] = start;
        spans[2 * i + 1] = end < size ? end : size;
    }
    int failed = 0;
    /* The walk reads only the buffer and C arrays: the interpreter lock is let go, so the thread that
     * unpacks the next dex (auditor/extract/prefetch.py) runs meanwhile. */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && !failed; i++) {
        uint64_t pos = spans[2 * i], end = spans[2 * i + 1];
        while (pos + 2 <= end && !failed) {
            uint8_t op = data[pos];
            if (op == 0 && data[pos + 1]) {
                uint64_t w = payload_units(data, size, pos);
                pos += 2 * (w ? w : 1);
                continue;
            }
            if (ref_ops[op]) {
                if (pos + 4 <= end) failed = records_push(&r, (uint32_t)pos, data[pos + 2] | (data[pos + 3] << 8), op);
            } else if (op == jumbo && pos + 6 <= end) {
                uint32_t index = (uint32_t)data[pos + 2] | ((uint32_t)data[pos + 3] << 8) |
                                 ((uint32_t)data[pos + 4] << 16) | ((uint32_t)data[pos + 5] << 24);
                failed = records_push(&r, (uint32_t)pos, index, op);
            }
            pos += 2 * (uint64_t)units[op];
            if (!units[op]) pos += 2;  /* never in the table; keeps a corrupt one from looping */
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) goto nomem;
    if (r.len == 0)  /* y# would give None for the NULL buffers */
        result = Py_BuildValue("(y#y#y#)", "", (Py_ssize_t)0, "", (Py_ssize_t)0, "", (Py_ssize_t)0);
    else
        result = Py_BuildValue("(y#y#y#)", (const char *)r.offsets, (Py_ssize_t)(r.len * 4),
                               (const char *)r.indices, (Py_ssize_t)(r.len * 4), (const char *)r.ops, (Py_ssize_t)r.len);
    goto done;
nomem:
    PyErr_NoMemory();
done:
    PyMem_RawFree(spans);
    PyMem_RawFree(r.offsets);
    PyMem_RawFree(r.indices);
    PyMem_RawFree(r.ops);
    PyBuffer_Release(&buf);
    PyBuffer_Release(&tbuf);
    return result;
}

PyDoc_STRVAR(select_doc,
"select(indices, ops, op_mask, low_bits, high) -> bytes\n\n"
"Positions (u32) of the records whose opcode is set in op_mask (256 bytes) and whose index is set\n"
"in low_bits (a 65536-bit map) or, above 65535, found in high (a sorted array('I')).");

static PyObject *select_records(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer ibuf, obuf, mbuf, lbuf, hbuf;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &ibuf, &obuf, &mbuf, &lbuf, &hbuf)) return NULL;
    PyObject *result = NULL;
    uint32_t *out = NULL;
    size_t len = 0, cap = 0;
    const uint32_t *indices = ibuf.buf, *high = hbuf.buf;
    const uint8_t *ops = obuf.buf, *mask = mbuf.buf, *low = lbuf.buf;
    Py_ssize_t count = obuf.len, high_n = hbuf.len / 4;
    if (ibuf.len != 4 * obuf.len || mbuf.len != 256 || lbuf.len != 8192) {
        PyErr_SetString(PyExc_ValueError, "select: bad tables");
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (!mask[ops[i]]) continue;
        uint32_t index = indices[i];
        int hit;
        if (index < 65536) {
            hit = (low[index >> 3] >> (index & 7)) & 1;
        } else {
            Py_ssize_t lo = 0, hi = high_n;
            while (lo < hi) {
                Py_ssize_t mid = lo + (hi - lo) / 2;
                if (high[mid] < index) lo = mid + 1; else hi = mid;
            }
            hit = lo < high_n && high[lo] == index;
        }
        if (!hit) continue;
        if (len == cap) {
            cap = cap ? 2 * cap : 256;
            uint32_t *grown = PyMem_Realloc(out, cap * sizeof *out);
            if (!grown) { PyErr_NoMemory(); goto done; }
            out = grown;
        }
        out[len++] = (uint32_t)i;
    }
    result = PyBytes_FromStringAndSize(len ? (const char *)out : "", (Py_ssize_t)(len * 4));
done:
    PyMem_Free(out);
    PyBuffer_Release(&ibuf);
    PyBuffer_Release(&obuf);
    PyBuffer_Release(&mbuf);
    PyBuffer_Release(&lbuf);
    PyBuffer_Release(&hbuf);
    return result;
}

PyDoc_STRVAR(decode_strings_doc,
"decode_strings(data, string_offsets, indices) -> list\n\n"
"For each string index (string_offsets and indices are array('I')), the string when it takes the\n"
"common form (a one-byte length, a terminating NUL, no 0xC0 byte: plain UTF-8, decoded with\n"
"'replace'), else None for the caller's full MUTF-8 reader: DexFile._decode_strings' fast path.");

static PyObject *decode_strings(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf, obuf, ibuf;
    if (!PyArg_ParseTuple(args, "y*y*y*", &buf, &obuf, &ibuf)) return NULL;
    const uint8_t *data = buf.buf;
    const uint32_t *offsets = obuf.buf, *indices = ibuf.buf;
    Py_ssize_t size = buf.len, count = obuf.len / 4, n = ibuf.len / 4;
    PyObject *out = PyList_New(n);
    for (Py_ssize_t k = 0; out != NULL && k < n; k++) {
        uint32_t i = indices[k];
        Py_ssize_t o = i < (uint64_t)count ? (Py_ssize_t)offsets[i] : size;
        PyObject *text = NULL;
        if (o < size && data[o] < 0x80) {
            const uint8_t *start = data + o + 1, *end = memchr(start, 0, (size_t)(size - o - 1));
            if (end != NULL && memchr(start, 0xC0, (size_t)(end - start)) == NULL) {
                text = PyUnicode_DecodeUTF8((const char *)start, end - start, "replace");
                if (text == NULL) Py_CLEAR(out);
            }
        }
        if (out != NULL) PyList_SET_ITEM(out, k, text != NULL ? text : Py_NewRef(Py_None));
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&obuf);
    PyBuffer_Release(&ibuf);
    return out;
}

PyDoc_STRVAR(string_lower_bound_doc,
"string_lower_bound(data, string_offsets, needle) -> int\n\n"
"The index of the first string not below needle (plain ASCII without NUL) in the string table,\n"
"as DexFile._first_string_from's binary search finds it, comparing bytes instead of decoded\n"
"text; -1 when a probed string holds a 0xC0 byte before the point of difference (MUTF-8's NUL\n"
"sorts below the byte order), where the caller searches with decoded text.");

/* -1, 0 or 1 as the string at off compares with needle, or 2 when only decoding can tell. Bytes
 * equal to an ASCII needle are ASCII, so up to the first difference byte order is character order;
 * there a byte of 0x80 or more starts a character (or U+FFFD) above any ASCII one, except 0xC0,
 * which may be MUTF-8's two-byte NUL. */
static int compare_at(const uint8_t *data, uint64_t size, uint64_t off, const uint8_t *needle, Py_ssize_t n) {
    uint64_t pos = off;
    for (unsigned k = 0;; k++) {  /* the length, as reader._uleb reads it: at most five bytes */
        if (pos >= size) return n ? -1 : 0;  /* string() gives "" */
        if (data[pos++] < 0x80 || k == 4) break;
    }
    for (Py_ssize_t i = 0;; i++, pos++) {
        int ended = pos >= size || data[pos] == 0;
        if (i == n) return ended ? 0 : 1;
        if (ended) return -1;
        uint8_t byte = data[pos];
        if (byte == 0xC0) return 2;
        if (byte != needle[i]) return byte < needle[i] ? -1 : 1;
    }
}

static PyObject *string_lower_bound(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf, obuf, nbuf;
    if (!PyArg_ParseTuple(args, "y*y*y*", &buf, &obuf, &nbuf)) return NULL;
    const uint8_t *data = buf.buf, *needle = nbuf.buf;
    const uint32_t *offsets = obuf.buf;
    Py_ssize_t lo = 0, hi = obuf.len / 4, n = nbuf.len;
    int undecided = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (needle[i] == 0 || needle[i] >= 0x80) undecided = 1;
    while (!undecided && lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        int order = compare_at(data, (uint64_t)buf.len, offsets[mid], needle, n);
        if (order == 2) undecided = 1;
        else if (order < 0) lo = mid + 1;
        else hi = mid;
    }
    PyBuffer_Release(&buf);
    PyBuffer_Release(&obuf);
    PyBuffer_Release(&nbuf);
    return PyLong_FromSsize_t(undecided ? -1 : lo);
}

PyDoc_STRVAR(ascending_doc,
"ascending(values) -> bool\n\n"
"Whether a buffer of native u32 (an array('I')) never decreases: DexFile._strings_by_offset's test\n"
"of the usual layout, where the string data lies in the order of the string table.");

static PyObject *ascending(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer buf;
    if (!PyArg_ParseTuple(args, "y*", &buf)) return NULL;
    const uint32_t *values = buf.buf;
    Py_ssize_t n = buf.len / 4;
    int ordered = 1;
    for (Py_ssize_t i = 1; i < n && ordered; i++) ordered = values[i - 1] <= values[i];
    PyBuffer_Release(&buf);
    return PyBool_FromLong(ordered);
}

static PyMethodDef methods[] = {
    {"ascending", ascending, METH_VARARGS, ascending_doc},
    {"code_index", code_index, METH_VARARGS, code_index_doc},
    {"decode_strings", decode_strings, METH_VARARGS, decode_strings_doc},
    {"method_table", method_table, METH_VARARGS, method_table_doc},
    {"opcode_set", opcode_set, METH_VARARGS, opcode_set_doc},
    {"ref_records", ref_records, METH_VARARGS, ref_records_doc},
    {"select", select_records, METH_VARARGS, select_doc},
    {"string_lower_bound", string_lower_bound, METH_VARARGS, string_lower_bound_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "auditor.dex._native",
    "C forms of the dex reader's hot loops (see reader.py for the pure-Python forms).", -1, methods,
    NULL, NULL, NULL, NULL,
};

/* Raised whenever a function's arguments or results change: reader.py ignores a module built from
 * older sources (an editable install whose C file changed since it was last built). */
#define NATIVE_VERSION 7

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", NATIVE_VERSION)) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
