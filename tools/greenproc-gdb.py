# SPDX-License-Identifier: BSD-2-Clause
#
# greenproc-gdb.py -- gdb commands to see green processes and LWPs.
#
#   (gdb) source tools/greenproc-gdb.py
#   (gdb) info green              every green process (and init) with its LWPs
#   (gdb) green bt TID            backtrace of LWP TID (the "lwp" column)
#   (gdb) green bt EXPR           ... of the LWP EXPR points to (gp_lwp_t)
#   (gdb) green bt all            ... of every LWP
#   (gdb) green bt TID scan       ... found by scanning its stack (see below)
#
# Works on a live process and on a core file.  It needs the runtime's
# debug info (the default -O2 -g build): it reads the pid table (pid.c's
# static pidtab and pid_hiwater), init (gpi_proc0) and each process's
# p_lwps list.  Every copy of the runtime in the program is listed (a
# program linked with libgreenproc.so and one running under the preload
# each have their own); a copy whose pid table is not set up yet shows
# only init.
#
# How "green bt" unwinds a suspended LWP.  Its registers are not in any
# thread: the inline switch (runtime/arch/x86_64/switch.h) left rip, rsp
# and rbp in its struct gp_ctx (l_ctx.c_pc, c_sp, c_bp; rip is where it
# resumes, inside the function the switch is inlined into), and every
# other register is dead there: the frames above restore their own from
# the stack by their CFI.  Rather than writing them into a thread's registers (impossible on a core
# file, and a live thread must then be restored), a Python frame unwinder
# claims frame #0 of the selected thread for one backtrace and says that
# its caller's registers are the saved ones: gdb then unwinds the green
# stack with its own DWARF unwinder, inlined frames and file:line
# included.  The walk ends at gpi_md_trampoline, whose CFI marks rip
# undefined.  Frame #0 of that thread is not shown.  Under ARCH=generic
# (no gpi_md_trampoline) c_sp points at the ucontext_t swapcontext()
# saved, and the registers are read from there instead.
#
# Limits:
#  * An LWP running on a worker (state "running") has no saved frame: its
#    registers are its worker thread's, so "green bt" shows that thread's
#    backtrace instead (found by its pthread_t, when gdb knows the
#    threads' handles; else it names the worker).
#  * An LWP stopped halfway through a switch (its worker already made the
#    next LWP current, but gpi_md_switch has not stored its l_ctx yet)
#    shows a stale or broken trace: its worker thread, stopped in
#    switch_to or gpi_md_switch (inlined), tells ("info threads").
#  * "new" LWPs have not run: their entry function is shown, no frames.
#  * x86-64 only (switch.h's gp_ctx, or ARCH=generic's ucontext_t).
#  * gdb's own "gcore" cannot save the green stacks: it reads each mapping
#    in one piece, and the guard pages that MADV_GUARD_INSTALL puts inside
#    a stack slab make that read fail ("Memory read failed for corefile
#    section"), so the slab is missing from the core.  The kernel's core
#    dumps skip guard pages one by one and keep the stacks.
#  * Without gdb's Python unwinder API (gdb < 7.10), or when it fails,
#    the fallback is "scan": every word of the live stack that is a
#    return address (it follows a call instruction) is printed.  This is
#    a heuristic: stale return addresses left by earlier calls show up too.

import gdb

try:
    from gdb.unwinder import Unwinder, register_unwinder
except ImportError:  # gdb without the Python unwinder API
    Unwinder = object
    register_unwinder = None

MAXFRAMES = 64

LWP_STATES = ["new", "runnable", "running", "sleeping", "exiting"]
LIDL, LRUN, LONPROC, LSLEEP, LZOMB = range(5)
SZOMB = 2               # GPI_SZOMB
P_STOPPED = 0x40        # GPI_P_STOPPED
P_WEXIT = 0x1           # GPI_P_WEXIT
PCATCH = 0x1            # GPI_PCATCH


def _lookup_states():
    """The LWP state values from the debug info, if it has them."""
    global LIDL, LRUN, LONPROC, LSLEEP, LZOMB
    try:
        vals = [int(gdb.parse_and_eval(n)) for n in
                ("GPI_LIDL", "GPI_LRUN", "GPI_LONPROC", "GPI_LSLEEP",
                 "GPI_LZOMB")]
    except gdb.error:
        return
    LIDL, LRUN, LONPROC, LSLEEP, LZOMB = vals
    names = {}
    for v, n in zip(vals, ["new", "runnable", "running", "sleeping",
                           "exiting"]):
        names[v] = n
    LWP_STATES[:] = [names.get(i, str(i)) for i in range(max(vals) + 1)]


def _state_name(st):
    return LWP_STATES[st] if 0 <= st < len(LWP_STATES) else "?%d" % st


def _cstr(arr):
    """A char array as a Python string, up to its NUL."""
    out = bytearray()
    try:
        n = arr.type.sizeof
        for i in range(n):
            c = int(arr[i]) & 0xff
            if c == 0:
                break
            out.append(c)
    except gdb.error:
        return "?"
    return out.decode("utf-8", "replace")


def _ptr(v):
    return int(v.cast(gdb.lookup_type("unsigned long")))


class Runtime(object):
    """One copy of the runtime: an objfile with pid.c's pid table."""

    def __init__(self, pidtab_sym, objfile):
        self.pidtab_sym = pidtab_sym
        self.objfile = objfile

    def _sym(self, name):
        sym = None
        # Under LTO a static may come twice, abstract (no address) and
        # concrete: take the one in this runtime's objfile with a place.
        f = getattr(gdb, "lookup_static_symbols", None)
        if f is not None:
            for s in f(name):
                try:
                    if s.value().address is not None and (
                            self.objfile is None or s.symtab is None or
                            s.symtab.objfile == self.objfile):
                        return s
                except gdb.error:
                    continue
        for look in ("lookup_static_symbol", "lookup_global_symbol"):
            f = getattr(self.objfile, look, None) if self.objfile else None
            if f is not None:
                try:
                    sym = f(name)
                except gdb.error:
                    sym = None
                if sym is not None:
                    return sym
        try:
            return gdb.lookup_global_symbol(name) or \
                gdb.lookup_static_symbol(name)
        except (gdb.error, AttributeError):
            return None

    def name(self):
        return self.objfile.filename if self.objfile else "?"

    def proc0(self):
        sym = self._sym("gpi_proc0")
        return sym.value() if sym is not None else None

    def procs(self):
        """init, then every process of the pid table (slot order)."""
        out = []
        p0 = self.proc0()
        if p0 is not None:
            out.append(p0.address)
        tab = self.pidtab_sym.value()
        if _ptr(tab) == 0:
            return out
        hw = self._sym("pid_hiwater")
        n = int(hw.value()) if hw is not None else 0
        for i in range(n):
            try:
                p = tab[i]["ps_proc"]
                if _ptr(p) != 0:
                    out.append(p)
            except gdb.MemoryError:
                break
        return out


def runtimes():
    """Every copy of the runtime in the program (by its static pidtab)."""
    syms = []
    f = getattr(gdb, "lookup_static_symbols", None)
    if f is not None:
        syms = f("pidtab")
    else:
        s = gdb.lookup_static_symbol("pidtab") if hasattr(
            gdb, "lookup_static_symbol") else None
        syms = [s] if s is not None else []
    out, seen = [], set()
    for s in syms:
        try:
            v = s.value()
        except gdb.error:
            continue
        # An LTO build also describes each static abstractly, with no
        # location: only the concrete one has an address.
        if v.address is None:
            continue
        addr = _ptr(v.address)
        if addr in seen:
            continue
        seen.add(addr)
        objfile = s.symtab.objfile if s.symtab is not None else None
        out.append(Runtime(s, objfile))
    if not out:
        raise gdb.GdbError("greenproc: no pid table found (is the runtime "
                           "loaded, and built with -g?)")
    _lookup_states()
    return out


def lwps_of(p):
    out = []
    l = p["p_lwps"]
    while _ptr(l) != 0 and len(out) < 1000000:
        out.append(l)
        l = l["l_pnext"]
    return out


def all_lwps():
    """(runtime, process, lwp) for every LWP of every runtime copy."""
    for rt in runtimes():
        for p in rt.procs():
            for l in lwps_of(p):
                yield rt, p, l


def proc_stat(p):
    if int(p["p_stat"]) == SZOMB:
        return "Z"
    if int(p["p_flags"]) & P_STOPPED:
        return "T"
    for l in lwps_of(p):
        if int(l["l_stat"]) != LSLEEP:
            return "R"
    return "S"


def worker_of(l):
    """The worker an LWP is current on, or None."""
    w = l["l_worker"]
    if _ptr(w) == 0:
        return None
    try:
        if _ptr(w["w_curlwp"]) == _ptr(l):
            return w
    except gdb.MemoryError:
        pass
    return None


def gdb_thread_of(w):
    """The gdb thread running worker w (by pthread_t), or None."""
    want = _ptr(w["w_thread"])
    inf = gdb.selected_inferior()
    for t in inf.threads():
        try:
            h = t.handle()
        except (gdb.error, AttributeError, RuntimeError):
            return None
        if h is not None and int.from_bytes(bytes(h), "little") == want:
            return t
    return None


class InfoGreen(gdb.Command):
    """List green processes and their LWPs.

Usage: info green

One line per green process (init first): pid, parent, group, state
(S sleeping, R runnable or running, T stopped, Z zombie), LWP count and
name; then one line per LWP: its id (for "green bt"), state, stack and
saved stack pointer, and the worker it runs on."""

    def __init__(self):
        super(InfoGreen, self).__init__("info green", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        rts = runtimes()
        for rt in rts:
            if len(rts) > 1:
                gdb.write("runtime in %s:\n" % rt.name())
            p0 = rt.proc0()
            init = _ptr(p0.address) if p0 is not None else 0
            for p in rt.procs():
                pp = p["p_pptr"]
                ppid = int(pp["p_pid"]) if _ptr(pp) != 0 else 0
                name = _cstr(p["p_comm"])
                if _ptr(p) == init:
                    name = "init"
                gdb.write("pid %d (%s) ppid %d pgid %d stat %s nlwp %d\n" % (
                    int(p["p_pid"]), name, ppid, int(p["p_pgid"]),
                    proc_stat(p), int(p["p_nthreads"])))
                for l in lwps_of(p):
                    st = int(l["l_stat"])
                    w = worker_of(l)
                    extra = ""
                    if w is not None:
                        extra = " on worker %d" % int(w["w_id"])
                    elif st == LSLEEP and \
                            int(l["l_sleeper"]["s_flags"]) & PCATCH:
                        extra = " (interruptible)"
                    gdb.write("    lwp %-8d %-9s stack 0x%x+%d sp 0x%x%s\n" % (
                        int(l["l_tid"]),
                        "running" if w is not None else _state_name(st),
                        _ptr(l["l_stklo"]), int(l["l_stksize"]),
                        _ptr(l["l_ctx"]["c_sp"]), extra))


class GreenPrefix(gdb.Command):
    """Commands for greenproc's green processes.  See "help green bt"."""

    def __init__(self):
        super(GreenPrefix, self).__init__("green", gdb.COMMAND_STACK,
                                          gdb.COMPLETE_NONE, True)


class FrameId(object):
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class GreenUnwinder(Unwinder):
    """Claims frame #0 while "green bt" runs: its caller is the LWP's
    saved frame."""

    def __init__(self):
        super(GreenUnwinder, self).__init__("greenproc")
        self.saved = None       # {register: value} while active
        self.frame_sp = 0
        self.claimed = False

    def __call__(self, pending):
        if self.saved is None:
            return None
        level = getattr(pending, "level", None)
        if level is not None:
            if level() != 0:
                return None
        elif self.claimed:
            return None
        self.claimed = True
        pc = pending.read_register("rip")
        sp = pending.read_register("rsp")
        # The id's stack address is the green sp, below every green
        # frame: gdb then sees the green frames as outer to frame #0
        # (else "previous frame inner to this frame").
        info = pending.create_unwind_info(
            FrameId(gdb.Value(self.frame_sp).cast(sp.type), pc))
        for reg, val in self.saved.items():
            t = pc.type if reg == "rip" else sp.type
            info.add_saved_register(reg, gdb.Value(val).cast(t))
        return info


_unwinder = None


def _get_unwinder():
    global _unwinder
    if _unwinder is None and register_unwinder is not None:
        _unwinder = GreenUnwinder()
        register_unwinder(None, _unwinder, replace=True)
    return _unwinder


def _read_words(addr, n):
    inf = gdb.selected_inferior()
    mem = bytes(inf.read_memory(addr, 8 * n))
    return [int.from_bytes(mem[8 * i:8 * i + 8], "little") for i in range(n)]


def _symbolize(pc, is_return):
    """'func+0xoff at file:line' for a code address."""
    look = pc - 1 if is_return else pc
    name, off = None, 0
    try:
        blk = gdb.block_for_pc(look)
        while blk is not None and blk.function is None:
            blk = blk.superblock
        if blk is not None:
            name = blk.function.print_name
            off = pc - blk.start
    except (RuntimeError, gdb.error):
        pass
    if name is None:
        try:
            s = gdb.execute("info symbol 0x%x" % look, to_string=True)
            if not s.startswith("No symbol"):
                name = s.split(" in section")[0].strip()
                name = name.replace(" + ", "+")
                off = None
        except gdb.error:
            pass
    where = ""
    sal = gdb.find_pc_line(look)
    if sal.symtab is not None and sal.line:
        where = " at %s:%d" % (sal.symtab.filename.split("/")[-1], sal.line)
    if name is None:
        return "??" + where
    if off:
        return "%s+0x%x%s" % (name, off, where)
    return name + where


def _frame_line(n, f):
    pc = f.pc()
    name = f.name() or "??"
    where = ""
    sal = f.find_sal()
    if sal.symtab is not None and sal.line:
        where = " at %s:%d" % (sal.symtab.filename.split("/")[-1], sal.line)
    inl = " [inlined]" if f.type() == gdb.INLINE_FRAME else ""
    return "#%-2d 0x%016x in %s%s%s\n" % (n, pc, name, where, inl)


_generic = None


def is_generic():
    """ARCH=generic (ucontext switch, no gpi_md_trampoline)?"""
    global _generic
    if _generic is None:
        try:
            gdb.parse_and_eval("&gpi_md_trampoline")
            _generic = False
        except gdb.error:
            _generic = True
    return _generic


# ARCH=generic: c_sp points at a ucontext_t; x86-64 glibc layout:
# uc_mcontext.gregs[] at byte 40, indexed by REG_*.
UC_GREGS = 40
UC_REGS = {"r12": 4, "r13": 5, "r14": 6, "r15": 7, "rbp": 10, "rbx": 11,
           "rsp": 15, "rip": 16}


def saved_regs(l):
    """The saved stack pointer and the registers the switch saved."""
    ctx = l["l_ctx"]
    sp = _ptr(ctx["c_sp"])
    if is_generic():
        g = _read_words(sp + UC_GREGS, 17)
        regs = dict((r, g[i]) for r, i in UC_REGS.items())
        return regs["rsp"], regs
    return sp, {"rip": _ptr(ctx["c_pc"]), "rsp": sp,
                "rbp": _ptr(ctx["c_bp"])}


def bt_unwinder(l):
    """Backtrace by gdb's own unwinder, through GreenUnwinder."""
    uw = _get_unwinder()
    if uw is None:
        raise gdb.GdbError("no Python unwinder API")
    if gdb.selected_thread() is None:
        raise gdb.GdbError("no thread selected")
    sp, regs = saved_regs(l)
    out = []
    uw.saved, uw.frame_sp, uw.claimed = regs, sp, False
    try:
        gdb.invalidate_cached_frames()
        f = gdb.newest_frame().older()
        n = 0
        while f is not None and n < MAXFRAMES and f.pc() != 0:
            out.append(_frame_line(n, f))
            n += 1
            f = f.older()
        if f is not None and n == MAXFRAMES:
            out.append("(more frames not shown)\n")
        elif f is None and n > 0:
            last = gdb.newest_frame()
            for _ in range(n):
                last = last.older()
            why = last.unwind_stop_reason()
            if why not in (gdb.FRAME_UNWIND_NO_REASON,
                           gdb.FRAME_UNWIND_OUTERMOST):
                out.append("(backtrace ends: %s)\n" %
                           gdb.frame_stop_reason_string(why))
    finally:
        uw.saved, uw.claimed = None, False
        gdb.invalidate_cached_frames()
    if not out:
        raise gdb.GdbError("the unwinder found no frame")
    return out


def _is_return_address(pc):
    """Does a call instruction end right before pc?"""
    try:
        b = bytes(gdb.selected_inferior().read_memory(pc - 7, 7))
    except gdb.MemoryError:
        return False
    if b[2] == 0xe8:                        # call rel32
        return True
    if b[5] == 0xff and (b[6] & 0x38) == 0x10:   # call *%reg
        return True
    if b[4] == 0xff and (b[5] & 0x38) == 0x10:   # call *disp8(%reg)...
        return True
    if b[1] == 0xff and (b[2] & 0x38) == 0x10:   # call *disp32(...)
        return True
    if b[0] == 0xff and (b[1] & 0x38) == 0x10:   # call *disp32(sib)
        return True
    return False


def bt_scan(l):
    """Heuristic backtrace: return addresses found on the stack."""
    sp, regs = saved_regs(l)
    # The top of the stack it runs on: its struct's address, or the end
    # of the stack its creator gave (l_ustack).
    top = _ptr(l["l_stklo"]) + int(l["l_stksize"])
    out = ["(heuristic: return addresses found on the stack)\n"]
    n = 0
    addr = sp - 8 if is_generic() else sp
    if not is_generic():
        # The resume address first: it is no return address, and it is
        # not on the stack.
        out.append("#%-2d 0x%016x in %s  [c_pc]\n" %
                   (n, regs["rip"], _symbolize(regs["rip"], False)))
        n += 1
    while addr + 8 <= top and n < MAXFRAMES:
        chunk = min(512, (top - addr) // 8)
        for i, v in enumerate(_read_words(addr, chunk)):
            if v < 4096 or not _is_return_address(v):
                continue
            desc = _symbolize(v, True)
            if desc.startswith("??"):
                continue
            out.append("#%-2d 0x%016x in %s  [sp 0x%x]\n" %
                       (n, v, desc, addr + 8 * i))
            n += 1
            if n >= MAXFRAMES:
                break
        addr += 8 * chunk
    return out


def find_lwp(arg):
    """The LWP named by a tid or by an expression (gp_lwp_t / pointer)."""
    try:
        v = gdb.parse_and_eval(arg)
    except gdb.error as e:
        raise gdb.GdbError("green bt: %s" % e)
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        want = _ptr(v)
        for rt, p, l in all_lwps():
            if _ptr(l) == want:
                return rt, p, l
        raise gdb.GdbError("green bt: 0x%x is not a live LWP" % want)
    tid = int(v)
    for rt, p, l in all_lwps():
        if int(l["l_tid"]) == tid:
            return rt, p, l
    raise gdb.GdbError("green bt: no LWP %d (see \"info green\")" % tid)


def bt_one(p, l, scan):
    st = int(l["l_stat"])
    gdb.write("lwp %d of pid %d (%s), %s:\n" % (
        int(l["l_tid"]), int(p["p_pid"]), _cstr(p["p_comm"]),
        "running" if worker_of(l) is not None else _state_name(st)))
    w = worker_of(l)
    if st == LONPROC or w is not None:
        if w is None:
            gdb.write("  (running on a worker)\n")
            return
        t = gdb_thread_of(w)
        if t is None:
            gdb.write("  (running on worker %d: see its thread's "
                      "backtrace)\n" % int(w["w_id"]))
            return
        gdb.write("  (running on worker %d, gdb thread %d:)\n" %
                  (int(w["w_id"]), t.num))
        gdb.write(gdb.execute("thread apply %d bt" % t.num, to_string=True))
        return
    if st == LZOMB:
        gdb.write("  (exiting)\n")
        return
    if st == LIDL:
        gdb.write("  (not started yet: will run %s)\n" %
                  _symbolize(_ptr(l["l_fn"]), False))
        return
    lines = None
    if not scan:
        try:
            lines = bt_unwinder(l)
        except (gdb.error, gdb.GdbError, RuntimeError) as e:
            gdb.write("  (unwinder failed: %s; scanning the stack)\n" % e)
    if lines is None:
        lines = bt_scan(l)
    for s in lines:
        gdb.write("  " + s)


class GreenBt(gdb.Command):
    """Backtrace of a green LWP from its saved registers.

Usage: green bt TID|EXPR|all [scan]

TID is an LWP id as "info green" lists it; EXPR evaluates to a gp_lwp_t
(struct gp_lwp *); "all" does every LWP.  With "scan", return addresses
are found by scanning the stack instead of unwinding (a heuristic, for
when unwinding fails).  Works on live processes and core files."""

    def __init__(self):
        super(GreenBt, self).__init__("green bt", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        scan = False
        if args and args[-1] == "scan":
            scan = True
            args = args[:-1]
        if len(args) != 1:
            raise gdb.GdbError("usage: green bt TID|EXPR|all [scan]")
        if args[0] == "all":
            for rt, p, l in list(all_lwps()):
                bt_one(p, l, scan)
            return
        rt, p, l = find_lwp(args[0])
        bt_one(p, l, scan)


InfoGreen()
GreenPrefix()
GreenBt()
