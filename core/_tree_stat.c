/* tree_snapshot.check's stat loop in C: a warm report stats every folder and transcript (thousands)
 * and compares each with what the snapshot holds. os.stat costs ~3 us a path here, two thirds of
 * it building the stat_result; this costs the system call.
 *
 * moved(paths, n_folders, numbers) -> list of file indexes (0 = the first file) whose
 *   (size, mtime_ns, inode) differ from `numbers`, or None when a folder's (mtime_ns, inode)
 *   differs or any stat fails (the caller then walks, as tree_snapshot.check does).
 *   paths: the snapshot's paths as file-system bytes, NUL-separated (folders first);
 *   numbers: native int64s, (mtime_ns, inode) per folder then (size, mtime_ns, inode or -1) per file.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>

#if defined(__APPLE__)
#define MTIME_NS(st) ((int64_t)(st).st_mtimespec.tv_sec * 1000000000LL + (st).st_mtimespec.tv_nsec)
#else
#define MTIME_NS(st) ((int64_t)(st).st_mtim.tv_sec * 1000000000LL + (st).st_mtim.tv_nsec)
#endif

static PyObject *moved(PyObject *self, PyObject *args)
{
    (void)self;
    Py_buffer paths, numbers;
    Py_ssize_t n_folders;
    if (!PyArg_ParseTuple(args, "y*ny*", &paths, &n_folders, &numbers)) return NULL;
    PyObject *out = PyList_New(0);
    const char *p = paths.buf, *end = p + paths.len;
    const int64_t *num = numbers.buf;
    Py_ssize_t count = numbers.len / (Py_ssize_t)sizeof(int64_t), used = 0, i = 0;
    char small[4096];
    if (!out) goto fail;
    while (p <= end) {
        const char *nul = memchr(p, 0, (size_t)(end - p));
        size_t len = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *path = small;
        if (len >= sizeof small) {
            path = PyMem_Malloc(len + 1);
            if (!path) { PyErr_NoMemory(); goto fail; }
        }
        memcpy(path, p, len);
        path[len] = 0;
        struct stat st;
        int rc;
        Py_BEGIN_ALLOW_THREADS
        rc = stat(path, &st);
        Py_END_ALLOW_THREADS
        if (path != small) PyMem_Free(path);
        if (rc != 0) goto changed;                         /* gone or unreadable: walk */
        if (i < n_folders) {
            if (used + 2 > count) goto changed;
            if (MTIME_NS(st) != num[used] || (int64_t)st.st_ino != num[used + 1]) goto changed;
            used += 2;
        } else {
            if (used + 3 > count) goto changed;
            if ((int64_t)st.st_size != num[used] || MTIME_NS(st) != num[used + 1]
                || (num[used + 2] != -1 && (int64_t)st.st_ino != num[used + 2])) {
                PyObject *index = PyLong_FromSsize_t(i - n_folders);
                if (!index || PyList_Append(out, index) < 0) { Py_XDECREF(index); goto fail; }
                Py_DECREF(index);
            }
            used += 3;
        }
        i++;
        if (!nul) break;
        p = nul + 1;
    }
    if (used != count) goto changed;
    PyBuffer_Release(&paths);
    PyBuffer_Release(&numbers);
    return out;
changed:
    Py_XDECREF(out);
    PyBuffer_Release(&paths);
    PyBuffer_Release(&numbers);
    Py_RETURN_NONE;
fail:
    Py_XDECREF(out);
    PyBuffer_Release(&paths);
    PyBuffer_Release(&numbers);
    return NULL;
}

static PyMethodDef methods[] = {
    {"moved", moved, METH_VARARGS, "File indexes whose stat moved; None when a folder changed."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tree_stat", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__tree_stat(void) { return PyModule_Create(&module); }
