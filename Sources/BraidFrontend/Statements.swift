import BraidIR

extension FunctionLowerer {
    func lowerBlock(_ stmts: [PyStmt]) throws {
        for s in stmts { try lowerStmt(s) }
    }

    func lowerStmt(_ s: PyStmt) throws {
        switch s.kind {
        case .assign(let targets, let value):
            freshContainersStart = containers.count
            let v = try lowerExpr(value)
            // a = b = expr: every target gets the same value (arrays alias, as in Python).
            var value = v
            if targets.count > 1, case .array(let l) = v, l.asView == nil {
                value = .array(try materializeNew(l, hint: "tmp", loc: s.loc))
            }
            for t in targets { try assign(t, value, loc: s.loc) }
        case .annAssign(let target, _, let value):
            guard let value else { return }
            freshContainersStart = containers.count
            try assign(target, try lowerExpr(value), loc: s.loc)
        case .augAssign(let target, let op, let value):
            try augAssign(target, op, value, loc: s.loc)
        case .exprStmt(let e):
            if case .constant(.string) = e.kind { return }  // docstring
            _ = try lowerExpr(e)
        case .return(let e):
            try lowerReturn(e, loc: s.loc)
        case .for(let target, let iter, let body, let orelse):
            guard orelse.isEmpty else {
                try lowerBlock(loopElse(PyStmt(.for(target: target, iter: iter, body: body, orelse: []), s.loc), body, orelse, loc: s.loc))
                return
            }
            try lowerFor(target, iter, body, loc: s.loc)
        case .while(let test, let body, let orelse):
            guard orelse.isEmpty else {
                try lowerBlock(loopElse(PyStmt(.while(test: test, body: body, orelse: []), s.loc), body, orelse, loc: s.loc))
                return
            }
            loopDepth += 1
            loopStarts.append(s.loc)
            var cond = ScalarExpr.literal(.bool(true), .bool)
            let pre = try nested { cond = try condition(test) }
            let inner = try lowerLoopBody(body)
            loopStarts.removeLast()
            loopDepth -= 1
            if pre.isEmpty {
                // The condition re-reads its containers every iteration.
                emit(.whileLoop(WhileLoop(condition: cond, body: inner, loc: s.loc)))
            } else {
                // The condition needs computation: evaluate it at the top of every iteration.
                let exit = Node.branch(Branch(condition: .unary(.not, cond, .bool), then: [.breakLoop(s.loc)],
                                              orElse: [], loc: test.loc))
                emit(.whileLoop(WhileLoop(condition: .literal(.bool(true), .bool), body: pre + [exit] + inner,
                                          loc: s.loc)))
            }
        case .if(let test, let body, let orelse):
            let cond = try condition(test)
            if case .literal(.bool(let b), _) = cond {
                try lowerBlock(b ? body : orelse)
                return
            }
            // Scalars live in containers both branches share; array names must not end up
            // bound to different arrays depending on the branch taken.
            let before = env
            let thenNodes = try nested { try lowerBlock(body) }
            let afterThen = env
            for (n, v) in afterThen where isArray(v) && !sameBinding(v, before[n]) { env[n] = before[n] }
            var elseNodes = try nested { try lowerBlock(orelse) }
            for (n, v) in afterThen where isArray(v) && !sameBinding(v, before[n]) {
                // `if c: y = ... else: y = ...` with new arrays of one shape: one storage.
                if before[n] == nil, case .array(let t) = v, case .array(let e)? = env[n], let tv = t.asView,
                   containerIndex[tv.container].map({ containers[$0].isTransient }) == true,
                   tv.isWhole(of: container(tv.container)), t.shape == e.shape, t.dtype == e.dtype {
                    elseNodes += try nested { try store(.array(e), into: tv, loc: s.loc) }
                    env[n] = v
                    continue
                }
                if before[n] != nil || (env[n] != nil && !sameBinding(env[n], v)) {
                    try restartIfShapesDiverge(n, v, env[n] ?? before[n])
                    throw Diagnostic(s.loc, "array '\(n)' is bound to different arrays depending on the branch taken; create it before the if and assign into it (\(n)[:] = ...)")
                }
                env[n] = v
            }
            for (n, v) in env where isArray(v) && !sameBinding(v, before[n]) && before[n] != nil && sameBinding(afterThen[n], before[n]) {
                try restartIfShapesDiverge(n, v, before[n])
                throw Diagnostic(s.loc, "array '\(n)' is bound to different arrays depending on the branch taken; create it before the if and assign into it (\(n)[:] = ...)")
            }
            emit(.branch(Branch(condition: cond, then: thenNodes, orElse: elseNodes, loc: s.loc)))
        case .break:
            emit(.breakLoop(s.loc))
        case .continue:
            emit(.continueLoop(s.loc))
        case .pass, .import, .importFrom:
            break
        case .assert:
            break  // assertions are for CPython runs; the compiled module checks shapes itself
        case .functionDef(let f):
            // A closure: inlined where it is called, reading the enclosing names as Python
            // does (their values at the call); names it assigns are its own.
            if let problem = f.problems.first { throw problem }
            if let d = f.decorators.first { throw Diagnostic(d.loc, "decorators on nested functions are not supported") }
            argumentCounter += 1
            let key = "\(f.name)_def\(argumentCounter)"
            localFunctions[key] = (f, inlinePrefix, env, bindingDepth)
            env[f.name] = .function(key)
            bindingDepth[f.name] = loopDepth
        case .unsupported(let kind):
            throw Diagnostic(s.loc, "unsupported statement '\(PythonNames.statement(kind))'; \(PythonNames.advice(kind))")
        }
    }

    /// Arrays of one dtype and rank but different shapes, one of them depending on data (a
    /// selection), bound to `n` by the two branches of an if: `n` needs dynamic storage that
    /// follows the branch taken; lower again with that.
    func restartIfShapesDiverge(_ n: String, _ a: Value?, _ b: Value?) throws {
        guard case .array(let x)? = a, case .array(let y)? = b, x.dtype == y.dtype, x.shape.count == y.shape.count,
              x.shape != y.shape, (x.shape + y.shape).contains(where: dependsOnData),
              !dynamicNames.contains(inlinePrefix + n) else { return }
        throw DynamicRestart(name: inlinePrefix + n)
    }

    func isArray(_ v: Value?) -> Bool {
        if case .array? = v { return true }
        return false
    }

    /// Whether two bindings denote the same array (or are both absent).
    func sameBinding(_ a: Value?, _ b: Value?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (.array(let x)?, .array(let y)?): return x == y
        case (.array?, _), (_, .array?): return false
        default: return true
        }
    }

    /// A scalar boolean condition for `if`/`while`.
    func condition(_ e: PyExpr) throws -> ScalarExpr {
        let v = try lowerExpr(e)
        guard case .scalar(let x, _) = v else {
            if case .array = v {
                throw Diagnostic(e.loc, "the truth value of an array is ambiguous; use np.any(...) or np.all(...)")
            }
            throw Diagnostic(e.loc, "a condition must be a scalar, not a \(v.kindName)")
        }
        return truth(x)
    }

    func truth(_ x: ScalarExpr) -> ScalarExpr {
        if x.dtype == .bool { return x }
        return .binary(.ne, x, cast(.symbol(.zero), x.dtype), .bool)
    }

    // MARK: Assignment

    func assign(_ target: PyExpr, _ value: Value, loc: SourceLocation) throws {
        switch target.kind {
        case .name(let n):
            try bindName(n, value, loc: target.loc)
        case .tuple(let ts), .list(let ts):
            // An array unpacks along its first axis (a, b = np.percentile(x, [25, 75])): views of its rows.
            if case .array(let l) = try compactedValue(value, loc: loc), let n = l.shape.first {
                if let c = n.constant, c != ts.count {
                    throw Diagnostic(target.loc, "cannot unpack an array of \(c) rows into \(ts.count) names (Python raises ValueError)")
                }
                _ = try agree(n, .int(ts.count), loc: target.loc, broadcasting: false)
                let view = try viewOf(.array(l), loc: loc)
                let rows: [Value] = (0..<ts.count).map { k in
                    let r = view.reindexed(shape: Array(view.shape.dropFirst()), [.int(k)] + ArrayView.placeholders(view.shape.count - 1))
                    return r.shape.isEmpty ? .scalar(.load(r.memlet(at: []), r.dtype), weak: false) : .array(Lazy(node: .view(r), shape: r.shape, dtype: r.dtype))
                }
                try assign(target, .tuple(rows), loc: loc)
                return
            }
            guard case .tuple(let vs) = value else {
                throw Diagnostic(target.loc, "cannot unpack a \(value.kindName) into \(ts.count) names; unpack a tuple")
            }
            guard vs.count == ts.count else {
                throw Diagnostic(target.loc, "cannot unpack \(vs.count) values into \(ts.count) names")
            }
            if loopDepth > 0, try rotateArrays(ts, vs, loc: loc) { return }
            // Python evaluates the whole right-hand side before it binds any target: values
            // that read variables are taken first (`a, b = a + b, a * b`; `x, y = y, x`).
            let taken = ts.count > 1 ? try vs.map { try takeForUnpacking($0, targets: ts, loc: loc) } : vs
            for (t, v) in zip(ts, taken) { try assign(t, v, loc: loc) }
        case .subscript(let base, let index):
            let b = try lowerExpr(base)
            guard case .array(let l) = b, let view = l.asView else {
                throw Diagnostic(base.loc, "only arrays can be assigned into with [...]")
            }
            guard !container(view.container).isArgument || writableArgument(view.container) else {
                throw Diagnostic(base.loc, "internal: argument not writable")
            }
            let items = try indexItems(index)
            if items.contains(where: { if case .array? = $0.1 { return true } else { return false } }) {
                try storeIndexed(value, into: try self.index(view, index, items: items), loc: target.loc)
            } else {
                try store(value, into: try subscriptView(view, index, items), loc: target.loc)
            }
        case .attribute:
            throw Diagnostic(target.loc, "assigning to attributes is not supported")
        default:
            throw Diagnostic(target.loc, "cannot assign to this expression")
        }
    }

    /// `A, B = B, A` inside a loop (double buffering): the names trade arrays. Each name keeps
    /// its storage and the contents move instead (through copies taken first), which is the
    /// same as long as no other name views these arrays. Only for whole temporaries of one
    /// shape and dtype, bound to the target names; `false` leaves the statement to `assign`.
    func rotateArrays(_ targets: [PyExpr], _ values: [Value], loc: SourceLocation) throws -> Bool {
        guard targets.count == values.count, targets.count > 1 else { return false }
        var names: [String] = []
        var storage: [ArrayView] = []
        for t in targets {
            guard case .name(let n) = t.kind, case .array(let l)? = env[n], let v = l.asView,
                  let i = containerIndex[v.container], containers[i].isTransient, !containers[i].isDynamic, v.isWhole(of: containers[i]) else {
                return false
            }
            names.append(n)
            storage.append(v)
        }
        guard Set(storage.map(\.container)).count == storage.count else { return false }
        var sources: [ArrayView] = []
        for v in values {
            guard case .array(let l) = v, let view = l.asView, storage.contains(where: { $0.container == view.container }),
                  view.isWhole(of: container(view.container)) else { return false }
            sources.append(view)
        }
        guard Set(sources.map(\.container)).count == sources.count,
              storage.allSatisfy({ $0.shape == storage[0].shape && $0.dtype == storage[0].dtype }) else { return false }
        for (n, v) in zip(names, storage) where try otherNamesViewing(v.container, besides: n, loc: loc) { return false }
        // Every value is copied before any target is written.
        let copies = try sources.map { try materializeNew(Lazy(node: .view($0), shape: $0.shape, dtype: $0.dtype), hint: "rotated", loc: loc) }
        for (target, copy) in zip(storage, copies) { try store(.array(copy), into: target, loc: loc) }
        return true
    }

    func writableArgument(_ name: String) -> Bool { true }

    /// A value of a tuple's right-hand side that later bindings of the same statement cannot
    /// change: scalars that read containers go to a new scalar, array expressions to a new array.
    func takeForUnpacking(_ v: Value, targets: [PyExpr], loc: SourceLocation) throws -> Value {
        switch v {
        case .scalar(let e, let weak):
            var symbols = Set<String>()
            _ = e.mapSymbols { x in symbols.formUnion(x.freeSymbols); return x }
            let readsVariables = !e.reads.isEmpty || symbols.contains { containerIndex[$0] != nil }
            guard readsVariables else { return v }
            let t = scalarVariableType(e.dtype, weak: weak)
            let c = newScalar("rhs", t)
            if weak { weakScalars.insert(c) }
            emitTasklet(.point(c, []), cast(e, t), loc: loc)
            return readScalarContainer(c)
        case .array(let l):
            // An array expression becomes a new array now (as NumPy makes one); a plain array
            // keeps its identity, and binding rules (aliasing in loops) apply to it as usual.
            if l.asView != nil { return v }
            return .array(try materializeNew(l, hint: "rhs", loc: loc))
        default:
            return v
        }
    }

    func bindName(_ n: String, _ value: Value, loc: SourceLocation) throws {
        if ctx.symbols.contains(n) && env[n] == nil {
            throw Diagnostic(loc, "'\(n)' is a symbol; it cannot be assigned")
        }
        // `y = x[mask]`: the selection becomes a new array of data-dependent length.
        if case .masked(let x, let m) = value {
            try bindName(n, .array(try compacted(x, mask: m, loc: loc)), loc: loc)
            return
        }
        if case .array(let l) = value, dynamicNames.contains(inlinePrefix + n) {
            try bindDynamic(n, l, loc: loc)
            return
        }
        staleNames[n] = nil
        splitAliases[n] = nil
        switch value {
        case .scalar(.symbol(let sym), _) where assignCounts[n] == 1 && isStableSymbolic(sym):
            // Assigned once from sizes, parameters or loop variables (`n = A.shape[0]`):
            // the name is that symbolic value, so it can size arrays and bound loops.
            env[n] = value
            // A value of loop variables is also kept in a variable, for reads after the loop.
            if sym.freeSymbols.contains(where: { loopRanges[$0] != nil && !symbols.contains($0) }) {
                let shadow = newScalar(n, .int64, named: true)
                emitTasklet(.point(shadow, []), .symbol(sym), loc: loc)
                loopValueShadows[inlinePrefix + n] = shadow
            }
        case .scalar(let e, let weak):
            let dtype = scalarVariableType(e.dtype, weak: weak)
            var currentWeak = false
            let current: String? = {
                guard case .scalar(let cur, let w)? = env[n], let cname = scalarContainerName(cur) else { return nil }
                currentWeak = w
                return container(cname).isTransient || container(cname).isArgument ? cname : nil
            }()
            // Straight-line code outside loops rebinding the name to a value of another type:
            // in Python the name now denotes a new value of that type, and earlier reads keep
            // the old one, so it gets a new container (in loops and branches the types merge).
            let retyped = current.map { c in
                container(c).dtype != dtype || currentWeak != (weak && !strongVariables.contains(inlinePrefix + n))
            } ?? false
            if let cname = current, !(retyped && loopDepth == 0 && mapLocals.isEmpty && scalarBlocks[cname] == blockIDs.last) {
                let have = container(cname).dtype
                if weakScalars.contains(cname) && !weak {
                    throw WidenRestart(name: inlinePrefix + n, dtype: DType.promote(have, dtype), strong: true)
                }
                if have != dtype {
                    let wider = DType.promote(have, dtype)
                    if wider != have {
                        throw WidenRestart(name: inlinePrefix + n, dtype: wider)
                    }
                }
                emitTasklet(.point(cname, []), cast(e, have), loc: loc)
                return
            }
            let t = widened[inlinePrefix + n].map { DType.promote($0, dtype) } ?? dtype
            let cname = newScalar(n, t, named: true)
            scalarBlocks[cname] = blockIDs.last!
            if weak && !strongVariables.contains(inlinePrefix + n) { weakScalars.insert(cname) }
            emitTasklet(.point(cname, []), cast(e, t), loc: loc)
            env[n] = readScalarContainer(cname)
        case .array(let l):
            if let d = bindingDepth[n], d < loopDepth, case .array(let old)? = env[n] {
                // The loop body is lowered once, so a name bound before the loop must keep
                // its storage: a new array computed in the loop is written into it.
                try rebindInLoop(n, old: old, new: l, loc: loc)
                return
            }
            if let v = l.asView, ownedNames.contains(inlinePrefix + n) {
                // A name rebound in a loop later gets a copy of the array it is first bound to.
                try noteCopy(n, of: v, loc: loc)
                env[n] = .array(try materializeNew(l, hint: n, loc: loc))
            } else if l.asView != nil {
                env[n] = value  // a view: Python binds the same array
            } else {
                env[n] = .array(try materializeNew(l, hint: n, loc: loc))
            }
            bindingDepth[n] = loopDepth
        default:
            env[n] = value
            bindingDepth[n] = loopDepth
        }
    }

    /// Whether a symbolic value only uses symbols, loop variables and integer parameters
    /// that are never reassigned (so it cannot change while the name holds it).
    func isStableSymbolic(_ e: SymExpr) -> Bool {
        e.freeSymbols.allSatisfy { s in
            if symbols.contains(s) || loopRanges[s] != nil { return true }
            guard let k = containerIndex[s] else { return false }
            let c = containers[k]
            guard case .argument = c.role else { return false }
            return assignCounts[c.name] == 1
        }
    }

    /// `x = <new array>` inside a loop for a name bound before it: legal when the old
    /// array is a whole temporary that no other name shares and the new one is freshly
    /// computed with the same shape and dtype; it is then written into the old storage.
    func rebindInLoop(_ n: String, old: Lazy, new l: Lazy, loc: SourceLocation) throws {
        let advice = "copy into it instead (\(n)[:] = ...), or give the new array another name"
        // Another shape (a selection, a slice of data-dependent size): the name needs storage
        // of its own that follows its current shape; lower again with that.
        if l.dtype == old.dtype, l.shape.count == old.shape.count, l.shape != old.shape, !dynamicNames.contains(inlinePrefix + n) {
            throw DynamicRestart(name: inlinePrefix + n)
        }
        let fresh = copyableInLoop(n, l, loc: loc)
        guard let ov = old.asView, container(ov.container).isTransient, ov.isWhole(of: container(ov.container)) else {
            // Bound before the loop to a parameter or a view: give the name storage of its own
            // from that first binding on (a copy), then the loop writes into it.
            if fresh, l.dtype == old.dtype, l.shape == old.shape, !ownedNames.contains(inlinePrefix + n),
               !dynamicNames.contains(inlinePrefix + n) {
                throw DynamicRestart(name: inlinePrefix + n, owned: true)
            }
            throw Diagnostic(loc, "'\(n)' is rebound inside a loop but was bound before it to a parameter or a view; \(advice)")
        }
        guard fresh else {
            throw Diagnostic(loc, "rebinding '\(n)' to another array's view inside a loop is not supported (the names would alias); \(advice)")
        }
        guard l.dtype == ov.dtype, l.shape == ov.shape else {
            throw Diagnostic(loc, "'\(n)' is rebound inside a loop to an array of another shape or dtype (\(l.dtype.rawValue)[\(l.shape.map(\.description).joined(separator: ", "))] vs \(ov.dtype.rawValue)[\(ov.shape.map(\.description).joined(separator: ", "))]); \(advice)")
        }
        let shared = try otherNamesViewing(ov.container, besides: n, loc: loc)
        if shared, !ownedNames.contains(inlinePrefix + n), !dynamicNames.contains(inlinePrefix + n) {
            // c2 = c, then c2 = c2 * 2 in a loop: c2 gets storage of its own from its first
            // binding on (a copy, checked against later writes to c), so c keeps its elements.
            throw DynamicRestart(name: inlinePrefix + n, owned: true)
        }
        guard !shared else {
            throw Diagnostic(loc, "'\(n)' is rebound inside a loop while another name still refers to its array; \(advice)")
        }
        try store(.array(l), into: ov, loc: loc)
    }

    /// Whether another name still refers to `container`, which `n`'s rebinding overwrites.
    /// Names bound in the current loop body (views taken earlier in the iteration) keep the
    /// old array in Python; here they become unusable instead (a later read is an error).
    func otherNamesViewing(_ container: String, besides n: String, loc: SourceLocation) throws -> Bool {
        var shared = false
        for (name, v) in env where name != n {
            guard case .array(let other) = v, other.views.contains(where: { $0.container == container }) else { continue }
            if loopDepth > 0, bindingDepth[name] == loopDepth {
                env[name] = nil
                staleNames[name] = (n, loc)
            } else {
                shared = true
            }
        }
        return shared
    }

    /// A loop body. Arrays created in it are new arrays every iteration in Python, so a name
    /// that outlives the iteration may take a copy of one instead of sharing it, provided the
    /// array is not written after the copy (checked when the body is complete).
    func lowerLoopBody(_ body: [PyStmt]) throws -> [Node] {
        loopBodyStarts.append(containers.count)
        loopCopies.append([])
        defer {
            loopBodyStarts.removeLast()
            loopCopies.removeLast()
        }
        let inner = try nested { try lowerBlock(body) }
        for c in loopCopies.last! where (writeCounts[c.container] ?? 0) != c.writes {
            throw Diagnostic(c.loc, "'\(c.name)' is rebound inside a loop to an array that is modified afterwards, so the two would share their elements; bind '\(c.name)' to a copy (\(c.name) = x.copy()) or modify the array before binding it")
        }
        // In Python the other names of a copied array still share it with the rebound name
        // after the body (and the loop); here they do not, so they cannot be used afterwards.
        for c in loopCopies.last! {
            for (name, v) in env where name != c.name {
                guard case .array(let other) = v, other.views.contains(where: { $0.container == c.container }) else { continue }
                env[name] = nil
                splitAliases[name] = (c.name, c.loc)
            }
        }
        return inner
    }

    /// Whether `l` may become the new value of `n` by copying: it is computed in this
    /// statement, or it views an array created in the current loop body (then registered
    /// for the check that nothing writes that array later in the body).
    func copyableInLoop(_ n: String, _ l: Lazy, loc: SourceLocation) -> Bool {
        guard let v = l.asView, let i = containerIndex[v.container] else { return true }
        if i >= freshContainersStart { return true }
        // A name written in place only before the outermost loop (frontier[src] = True, then
        // frontier = nxt in the loop) cannot make the two arrays' contents differ afterwards.
        let writtenOnlyBefore = inlineStack.isEmpty && loopStarts.first.map { first in
            (inPlaceLines[n] ?? []).allSatisfy { $0 < first.line }
        } ?? false
        guard let start = loopBodyStarts.last, i >= start, !inPlaceTargets.contains(n) || writtenOnlyBefore else { return false }
        loopCopies[loopCopies.count - 1].append((v.container, writeCounts[v.container] ?? 0, n, loc))
        return true
    }

    /// The scalar type of a Python variable holding a value of type `t`.
    func scalarVariableType(_ t: DType, weak: Bool) -> DType {
        guard weak else { return t }
        switch Typing.kindRank(t) {
        case 0: return .bool
        case 1: return .int64
        case 2: return .float64
        default: return .complex128
        }
    }

    /// The container a scalar value reads directly, if it is a plain variable read.
    func scalarContainerName(_ e: ScalarExpr) -> String? {
        switch e {
        case .symbol(.sym(let s)): return containerIndex[s] != nil && container(s).isScalar ? s : nil
        case .load(let m, _): return m.subset.isEmpty ? m.data : nil
        default: return nil
        }
    }

    /// Writes a value into a view (element or slice), with NumPy's copy semantics.
    func store(_ value: Value, into view: ArrayView, loc: SourceLocation) throws {
        markWritten(view.container)
        let shape = view.shape
        switch value {
        case .scalar(let e, _):
            try emitMap(shape, loc: loc) { idx in
                emitTasklet(view.memlet(at: idx), cast(e, view.dtype), loc: loc)
            }
        case .masked(let x, let m):
            try store(.array(try compacted(x, mask: m, loc: loc)), into: view, loc: loc)
        case .array(let l):
            _ = try broadcast(shape, l.shape, loc: loc)
            if l.shape.count > shape.count {
                throw Diagnostic(loc, "cannot assign an array of shape (\(l.shape.map(\.description).joined(separator: ", "))) into a slice of shape (\(shape.map(\.description).joined(separator: ", ")))")
            }
            let target = Lazy(node: .cast(l), shape: shape, dtype: view.dtype)
            // NumPy evaluates the right-hand side before writing: if it reads the target
            // at any other element, go through a temporary.
            var hazard = false
            if l.views.contains(where: { $0.container == view.container }) {
                let probe = (0..<shape.count).map { SymExpr.sym("__probe\($0)") }
                let out = view.memlet(at: probe)
                target.element(at: probe).visitLoads { m in
                    if m.data == view.container && m != out { hazard = true }
                }
            }
            if hazard {
                let tmp = try materializeNew(l, hint: "tmp", loc: loc)
                try store(.array(tmp), into: view, loc: loc)
                return
            }
            try emitMap(shape, loc: loc) { idx in
                emitTasklet(view.memlet(at: idx), target.element(at: idx), loc: loc)
            }
        default:
            throw Diagnostic(loc, "cannot store a \(value.kindName) into an array")
        }
    }

    /// `A[mask] = v` and `A[idx] = v`.
    func storeIndexed(_ value: Value, into target: Value, loc: SourceLocation) throws {
        switch target {
        case .masked(let whole, let mask):
            guard let view = whole.asView else { throw Diagnostic(loc, "internal: masked store without storage") }
            markWritten(view.container)
            let rhs: Lazy
            switch value {
            case .scalar(let x, _): rhs = Lazy(node: .scalar(x), shape: [], dtype: x.dtype)
            case .masked(let other, let m) where m == mask:
                // A[mask] = B[mask]: element-for-element under the same mask (shapes must agree).
                _ = try broadcast(view.shape, other.shape, loc: loc)
                rhs = other
            case .masked(let x, let m):
                try storeIndexed(.array(try compacted(x, mask: m, loc: loc)), into: target, loc: loc)
                return
            case .array(let l) where l.shape.count == 1 && view.shape.count >= 1:
                try storeSequential(l, into: view, mask: mask, loc: loc)
                return
            default:
                throw Diagnostic(loc, "A[mask] = ... takes a scalar or B[mask] of the same shape; for other values use np.where(mask, value, A)")
            }
            // Reading what we write at other elements would need NumPy's temporary.
            let value = Lazy(node: .cast(rhs), shape: view.shape, dtype: view.dtype)
            let tmp: Lazy = value.views.contains { $0.container == view.container } && rhs.shape.count > 0
                ? try materializeNew(value, hint: "tmp", loc: loc) : value
            let cond = Lazy(node: .cast(mask), shape: view.shape, dtype: .bool)
            try emitMap(view.shape, loc: loc) { idx in
                let write = nested { emitTasklet(view.memlet(at: idx), tmp.element(at: idx), loc: loc) }
                emit(.branch(Branch(condition: cond.element(at: idx), then: write, orElse: [], loc: loc)))
            }
        case .array(let g):
            guard case .gather(let view, _, _, _) = g.node else {
                throw Diagnostic(loc, "assigning through a 1-D boolean mask along one axis (A[rows] = ..., A[:, cols] = ...) is not supported; use a mask of A's full shape, or np.where")
            }
            markWritten(view.container)
            // NumPy evaluates the right-hand side first and, for repeated indices, the last write wins.
            var rhs: Lazy
            switch value {
            case .scalar(let x, _): rhs = Lazy(node: .scalar(x), shape: [], dtype: x.dtype)
            case .array(let l):
                _ = try broadcast(g.shape, l.shape, loc: loc)
                rhs = try materializeNew(l, hint: "tmp", loc: loc)
            default: throw Diagnostic(loc, "cannot store a \(value.kindName) through an index array")
            }
            rhs = Lazy(node: .cast(rhs), shape: g.shape, dtype: view.dtype)
            try emitMap(g.shape, loc: loc) { idx in
                guard case .load(let out, _) = g.element(at: idx) else { return }
                emitTasklet(out, rhs.element(at: idx), loc: loc)
            }
        default:
            throw Diagnostic(loc, "internal: indexed store target")
        }
    }

    /// `A[mask] = values` with a 1-D array: the k-th selected element gets `values[k]`
    /// (NumPy requires exactly count_nonzero(mask) values, or one).
    func storeSequential(_ values: Lazy, into view: ArrayView, mask: Lazy, loc: SourceLocation) throws {
        guard mapLocals.isEmpty else {
            throw Diagnostic(loc, "A[mask] = array cannot run inside a parallel map; use a range loop")
        }
        // The values are read in full before anything is written (NumPy evaluates them first).
        let src = values.views.contains { $0.container == view.container }
            ? try materializeNew(values, hint: "tmp", loc: loc) : values
        var cond = mask.dtype == .bool && mask.shape == view.shape ? mask : Lazy(node: .cast(mask), shape: view.shape, dtype: .bool)
        // A mask computed from the target is evaluated before the writes change it.
        if cond.views.contains(where: { $0.container == view.container }) {
            cond = try materializeNew(cond, hint: "mask", loc: loc)
        }
        let count = try trueCount(cond, loc: loc)
        let n = src.shape[0]
        let one = n == .one
        if !one {
            emit(.branch(Branch(condition: .binary(.ne, .symbol(.sym(count)), .symbol(n), .bool),
                                then: [.fail(.shapeMismatch, loc)], orElse: [], loc: loc)))
        }
        let k = newScalar("next", .int64)
        emitTasklet(.point(k, []), .symbol(.zero), loc: loc)
        let vars = view.shape.map { _ in fresh("i") }
        for (v, d) in zip(vars, view.shape) { loopRanges[v] = SymRange(.zero, d) }
        let idx = vars.map { SymExpr.sym($0) }
        let value = Lazy(node: .cast(src), shape: src.shape, dtype: view.dtype)
        var body: [Node] = nested {
            let take = nested {
                emitTasklet(view.memlet(at: idx), value.element(at: [one ? .zero : .sym(k)]), loc: loc)
                emitTasklet(.point(k, []), .symbol(.sym(k) + 1), loc: loc)
            }
            emit(.branch(Branch(condition: cond.element(at: idx), then: take, orElse: [], loc: loc)))
        }
        for (v, d) in zip(vars, view.shape).reversed() {
            body = [.forLoop(ForLoop(variable: v, range: SymRange(.zero, d), body: body, loc: loc))]
        }
        for node in body { emit(node) }
    }

    /// Evaluates an elementwise expression into a new transient array.
    func materializeNew(_ l: Lazy, hint: String, loc: SourceLocation) throws -> Lazy {
        let view = try newArray(hint, l.dtype, l.shape, loc: loc)
        try store(.array(l), into: view, loc: loc)
        return Lazy(node: .view(view), shape: view.shape, dtype: view.dtype)
    }

    func augAssign(_ target: PyExpr, _ op: PyBinOp, _ valueExpr: PyExpr, loc: SourceLocation) throws {
        let cur = try lowerExpr(target)
        let rhs = try lowerExpr(valueExpr)
        let combined = try binaryOp(op, cur, rhs, loc: loc)
        switch (target.kind, cur) {
        case (.name(let n), .array(let l)):
            // In-place on the array the name denotes (NumPy's `a += b` does not rebind).
            guard let view = l.asView else { throw Diagnostic(loc, "internal: array name without storage") }
            guard case .array(let c) = combined else { throw Diagnostic(loc, "internal: augmented array op") }
            if DType.promote(view.dtype, c.dtype) != view.dtype && !(Typing.kindRank(c.dtype) <= Typing.kindRank(view.dtype)) {
                throw Diagnostic(loc, "cannot cast the result of '\(n) \(PythonNames.binOp(op))= ...' from \(c.dtype.rawValue) to \(view.dtype.rawValue) in place (NumPy raises UFuncTypeError); write \(n) = \(n) \(PythonNames.binOp(op)) ... instead")
            }
            try store(combined, into: view, loc: loc)
        default:
            try assign(target, combined, loc: loc)
        }
    }

    // MARK: Return

    func lowerReturn(_ e: PyExpr?, loc: SourceLocation) throws {
        let value = try compactedValue(try e.map { try lowerExpr($0) } ?? .none, loc: loc)
        var values: [Value]
        if case .tuple(let vs) = value { values = vs } else if case .none = value { values = [] } else { values = [value] }
        if case .tuple = value { returnsTuple = true }
        if results == nil {
            var rs: [String] = []
            for (k, v) in values.enumerated() {
                switch v {
                case .scalar(let x, let weak):
                    let t = scalarVariableType(x.dtype, weak: weak)
                    let name = unique("_return\(k)")
                    addContainer(Container(name: name, dtype: t, shape: [], role: .result(index: k), storage: .register))
                    rs.append(name)
                case .array(let l):
                    if l.shape.contains(where: dependsOnData) {
                        // Its size is known only when it is returned: the program allocates the
                        // result and hands it to the caller (`Container.isDynamic`).
                        guard inlineStack.isEmpty, mapLocals.isEmpty else {
                            throw Diagnostic(loc, "an array whose size depends on data cannot be returned from inside a parallel map or an inlined function; return it from the function being compiled, outside maps")
                        }
                        // `return z` at the end, for a whole dynamic temporary returned once: `z` becomes the result.
                        if loc == finalReturn, let v = l.asView, let i = containerIndex[v.container],
                           containers[i].isTransient, containers[i].isDynamic, v.isWhole(of: containers[i]), !rs.contains(v.container),
                           values.filter({ if case .array(let o) = $0 { return o.views.contains { $0.container == v.container } } else { return false } }).count == 1 {
                            containers[i].role = .result(index: k)
                            rs.append(v.container)
                            continue
                        }
                        let name = unique("_return\(k)")
                        let dims = l.shape.indices.map { d in SymExpr.sym(newScalar("\(name)_size\(d)", .int64)) }
                        addContainer(Container(name: name, dtype: l.dtype, shape: dims, role: .result(index: k),
                                               storage: .hostHeap, isDynamic: true))
                        rs.append(name)
                        continue
                    }
                    for s in l.shape.flatMap(\.freeSymbols) where !symbols.contains(s) && !(containerIndex[s].map { containers[$0].isArgument } ?? false) {
                        throw Diagnostic(loc, "the returned array's shape depends on '\(s)', which is only known while the program runs; return arrays whose shapes use symbols or parameters")
                    }
                    // `return a` at the end, for a whole temporary `a` returned once: `a` becomes the result.
                    if loc == finalReturn, inlineStack.isEmpty, let v = l.asView, let i = containerIndex[v.container],
                       containers[i].isTransient, v.isWhole(of: containers[i]), !rs.contains(v.container),
                       values.filter({ if case .array(let o) = $0 { return o.views.contains { $0.container == v.container } } else { return false } }).count == 1 {
                        containers[i].role = .result(index: k)
                        rs.append(v.container)
                        continue
                    }
                    let name = unique("_return\(k)")
                    addContainer(Container(name: name, dtype: l.dtype, shape: l.shape, role: .result(index: k), storage: .hostHeap))
                    rs.append(name)
                default:
                    throw Diagnostic(loc, "cannot return a \(v.kindName); return scalars, arrays or a tuple of them")
                }
            }
            results = rs
        }
        guard let rs = results, rs.count == values.count else {
            throw Diagnostic(loc, "every return statement must return the same number of values")
        }
        for (r, v) in zip(rs, values) {
            let c = container(r)
            switch v {
            case .scalar(let x, _):
                guard c.isScalar else { throw Diagnostic(loc, "this return statement returns a scalar where another returns an array") }
                emitTasklet(.point(r, []), cast(x, c.dtype), loc: loc)
            case .array(let l):
                guard !c.isScalar else { throw Diagnostic(loc, "this return statement returns an array where another returns a scalar") }
                if l.asView?.container == r { continue }  // already the result storage
                if c.isDynamic {
                    // Another returned value reading the same storage must still find it there.
                    let shared = l.asView.map { v in
                        values.filter { if case .array(let o) = $0 { return o.views.contains { $0.container == v.container } } else { return false } }.count > 1
                    } ?? true
                    try returnDynamic(l, into: c, mayTakeStorage: !shared, loc: loc)
                    continue
                }
                if l.shape.contains(where: dependsOnData) {
                    // An earlier return statement gave this result a fixed size: it becomes dynamic.
                    try makeResultDynamic(r, loc: loc)
                    let shared = values.filter { if case .array(let o) = $0 { return o.views.contains { v in l.views.contains { $0.container == v.container } } } else { return false } }.count > 1
                    try returnDynamic(l, into: container(r), mayTakeStorage: !shared, loc: loc)
                    continue
                }
                try store(.array(l), into: .whole(c), loc: loc)
            default:
                throw Diagnostic(loc, "cannot return a \(v.kindName)")
            }
        }
        emit(.returnProgram(loc))
    }

    /// Turns a result array of fixed shape (given by symbols and parameters, so known at entry)
    /// into a dynamic result, for a later return statement whose array's size depends on data.
    /// It gets its fixed shape and storage at entry, so the return statements already lowered
    /// write it as before; the data-dependent return sets its sizes anew.
    func makeResultDynamic(_ name: String, loc: SourceLocation) throws {
        guard mapLocals.isEmpty, inlineStack.isEmpty, let i = containerIndex[name], !containers[i].isScalar else {
            throw Diagnostic(loc, "internal: cannot make result \(name) dynamic here")
        }
        let old = containers[i].shape
        let dims = old.indices.map { d in newScalar("\(name)_size\(d)", .int64) }
        var entry: [Node] = zip(dims, old).map { .tasklet(Tasklet(output: .point($0, []), value: .symbol($1), loc: loc)) }
        for d in dims { markWritten(d) }
        containers[i].shape = dims.map { .sym($0) }
        containers[i].isDynamic = true
        markWritten(name)
        entry.append(.allocate(Allocation(container: name, loc: loc)))
        blocks[0].insert(contentsOf: entry, at: 0)
    }

    /// `return l` into the dynamic result `c`: its sizes become l's, then it takes over the
    /// storage of l when l is a whole dynamic temporary of the same dtype (no copy; the
    /// program ends here), else gets storage of its own and a copy of l.
    func returnDynamic(_ l: Lazy, into c: Container, mayTakeStorage: Bool, loc: SourceLocation) throws {
        guard l.shape.count == c.shape.count else {
            throw Diagnostic(loc, "return statements return arrays of different numbers of dimensions (\(l.shape.count)-D here, \(c.shape.count)-D before); every return statement must return arrays of the same dimensions")
        }
        for (dim, s) in zip(c.shape, l.shape) {
            guard case .sym(let size) = dim else { continue }
            emitTasklet(.point(size, []), .symbol(s), loc: loc)
        }
        markWritten(c.name)
        if mayTakeStorage, let v = l.asView, let i = containerIndex[v.container], containers[i].isDynamic, containers[i].isTransient,
           containers[i].dtype == c.dtype, v.isWhole(of: containers[i]) {
            emit(.allocate(Allocation(container: c.name, takeFrom: v.container, loc: loc)))
            return
        }
        emit(.allocate(Allocation(container: c.name, loc: loc)))
        // Its sizes were just set to l's, so l's shape describes it.
        try store(.array(l), into: ArrayView(container: c.name, dtype: c.dtype, shape: l.shape,
                                             access: ArrayView.placeholders(l.shape.count)), loc: loc)
    }

    // MARK: Loops

    func lowerFor(_ target: PyExpr, _ iter: PyExpr, _ body: [PyStmt], loc: SourceLocation) throws {
        // for i, j in br.map[0:N, 0:M]
        if case .subscript(let base, let idx) = iter.kind, case .mapRange = try lowerExpr(base) {
            let names: [PyExpr]
            if case .tuple(let ts) = target.kind { names = ts } else { names = [target] }
            let dims: [PyExpr]
            if case .tuple(let ds) = idx.kind { dims = ds } else { dims = [idx] }
            guard names.count == dims.count else {
                throw Diagnostic(iter.loc, "map has \(dims.count) ranges but \(names.count) loop variables")
            }
            var ranges: [SymRange] = []
            for d in dims {
                guard case .slice(let lo, let hi, let st) = d.kind, let hi else {
                    throw Diagnostic(d.loc, "map ranges are written start:stop (e.g. 0:N)")
                }
                let start = try lo.map { try symbolic($0) } ?? .zero
                let step = try st.map { try symbolic($0) } ?? .one
                ranges.append(SymRange(start, try symbolic(hi), step: step))
            }
            var params: [String] = []
            for n in names {
                guard case .name(let v) = n.kind else { throw Diagnostic(n.loc, "map variables must be names") }
                let p = unique(v)
                params.append(p)
                loopRanges[p] = ranges[params.count - 1]
                env[v] = .scalar(.symbol(.sym(p)), weak: true)
            }
            mapLocals.append([])
            let inner = try nested { try lowerBlock(body) }
            let locals = mapLocals.removeLast()
            emit(.map(MapScope(params: params, ranges: ranges, schedule: .sequential, body: inner,
                               locals: locals, loc: loc)))
            leaveLoopScope(params, loc: loc)
            return
        }
        // for i in range(...)
        guard case .call(let fn, let args, let kws) = iter.kind, case .name("range") = fn.kind, kws.isEmpty,
              (1...3).contains(args.count) else {
            try lowerIteration(target, iter, body, loc: loc)
            return
        }
        guard case .name(let v) = target.kind else {
            throw Diagnostic(target.loc, "the loop variable of a range loop must be a single name")
        }
        let bounds = try args.map { try symbolic($0) }
        let range: SymRange
        switch bounds.count {
        case 1: range = SymRange(.zero, bounds[0])
        case 2: range = SymRange(bounds[0], bounds[1])
        default:
            guard let st = bounds[2].constant, st != 0 else {
                throw Diagnostic(args[2].loc, "the step of range() must be a nonzero integer constant")
            }
            range = SymRange(bounds[0], bounds[1], step: .int(st))
        }
        let p = unique(v)
        loopRanges[p] = range
        let saved = env[v]
        env[v] = .scalar(.symbol(.sym(p)), weak: true)  // a Python int under CPython
        loopDepth += 1
        loopStarts.append(loc)
        let inner = try lowerLoopBody(body)
        loopStarts.removeLast()
        loopDepth -= 1
        emit(.forLoop(ForLoop(variable: p, range: range, body: inner, loc: loc)))
        // After the loop Python's variable keeps its last value; reading it is rare and
        // not modelled: restore the previous binding so a stale read is an error, not a wrong value.
        env[v] = saved
        leaveLoopScope([p], loc: loc)
    }

    /// `for ... else` / `while ... else`: a flag cleared by each `break` of this loop (not of
    /// loops inside it), and the else block run when the flag is still set.
    func loopElse(_ loop: PyStmt, _ body: [PyStmt], _ orelse: [PyStmt], loc: SourceLocation) throws -> [PyStmt] {
        argumentCounter += 1
        let flag = PyExpr(.name("$nobreak\(argumentCounter)"), loc)
        func rewrite(_ stmts: [PyStmt]) -> [PyStmt] {
            stmts.flatMap { t -> [PyStmt] in
                switch t.kind {
                case .break: return [PyStmt(.assign(targets: [flag], value: PyExpr(.constant(.bool(false)), t.loc)), t.loc), t]
                case .if(let c, let b, let o): return [PyStmt(.if(test: c, body: rewrite(b), orelse: rewrite(o)), t.loc)]
                default: return [t]
                }
            }
        }
        let newLoop: PyStmt
        switch loop.kind {
        case .for(let target, let iter, _, _): newLoop = PyStmt(.for(target: target, iter: iter, body: rewrite(body), orelse: []), loop.loc)
        case .while(let test, _, _): newLoop = PyStmt(.while(test: test, body: rewrite(body), orelse: []), loop.loc)
        default: newLoop = loop
        }
        return [PyStmt(.assign(targets: [flag], value: PyExpr(.constant(.bool(true)), loc)), loc), newLoop,
                PyStmt(.if(test: flag, body: orelse, orelse: []), loc)]
    }

    /// `for v in x` (rows of an array), `for i, v in enumerate(x)`, `for a, b in zip(x, y)`,
    /// `reversed(...)`, nested freely and over `range(...)` too: a range loop over positions
    /// whose body first binds the target as Python does (`v = x[k]`, a view for rows). A tuple
    /// or list of values (`for M in (A, B)`) is unrolled.
    func lowerIteration(_ target: PyExpr, _ iter: PyExpr, _ body: [PyStmt], loc: SourceLocation) throws {
        argumentCounter += 1
        let position = "$pos\(argumentCounter)"
        var values: [Value] = []
        guard let (length, element) = try iteration(iter, values: &values) else {
            // A tuple of values: one copy of the body per value.
            if let jump = Self.firstJump(body) {
                throw Diagnostic(jump.loc, "'\(jump.kind)' in a loop over a tuple or list of values is not supported; loop over range(len(...)) and index, or over an array")
            }
            for v in values {
                try assign(target, v, loc: target.loc)
                try lowerBlock(body)
            }
            return
        }
        let lengthName = "$len\(argumentCounter)"
        env[lengthName] = .scalar(.symbol(length), weak: false)
        defer { env[lengthName] = nil }
        let bind = PyStmt(.assign(targets: [target], value: element(PyExpr(.name(position), target.loc))), target.loc)
        let range = PyExpr(.call(PyExpr(.name("range"), iter.loc), args: [PyExpr(.name(lengthName), iter.loc)], keywords: []), iter.loc)
        try lowerFor(PyExpr(.name(position), target.loc), range, [bind] + body, loc: loc)
    }

    /// The `break` or `continue` of this loop level in `body`, if any (not those of inner loops).
    static func firstJump(_ body: [PyStmt]) -> (kind: String, loc: SourceLocation)? {
        for s in body {
            switch s.kind {
            case .break: return ("break", s.loc)
            case .continue: return ("continue", s.loc)
            case .if(_, let b, let o):
                if let j = firstJump(b) ?? firstJump(o) { return j }
            default: continue
            }
        }
        return nil
    }

    /// The length of an iterable and its element at a position (a Python expression of the
    /// position); `nil` for a tuple or list of values (then in `values`), which the caller unrolls.
    func iteration(_ iter: PyExpr, values: inout [Value]) throws -> (SymExpr, (PyExpr) -> PyExpr)? {
        let loc = iter.loc
        func bound(_ v: Value) -> PyExpr {
            argumentCounter += 1
            let name = "$iter\(argumentCounter)"
            env[name] = v
            return PyExpr(.name(name), loc)
        }
        if case .call(let fn, let args, let kws) = iter.kind, case .name(let f) = fn.kind, env[f] == nil,
           ["enumerate", "zip", "range", "reversed"].contains(f) {
            switch f {
            case "enumerate":
                guard (1...2).contains(args.count), kws.allSatisfy({ $0.arg == "start" }), args.count + kws.count <= 2 else {
                    throw Diagnostic(loc, "enumerate() takes an iterable and an optional start")
                }
                guard let (n, inner) = try iteration(args[0], values: &values) else {
                    throw Diagnostic(args[0].loc, "enumerate() over a tuple or list of values is not supported; enumerate an array or a range")
                }
                let startExpr = args.count == 2 ? args[1] : kws.first?.value
                let start = try startExpr.map { bound(.scalar(.symbol(try symbolic($0)), weak: true)) }
                return (n, { p in
                    let i = start.map { PyExpr(.binOp($0, .add, p), loc) } ?? p
                    return PyExpr(.tuple([i, inner(p)]), loc)
                })
            case "zip":
                guard !args.isEmpty, kws.isEmpty else { throw Diagnostic(loc, "zip() takes one or more iterables") }
                var parts: [(SymExpr, (PyExpr) -> PyExpr)] = []
                for a in args {
                    guard let part = try iteration(a, values: &values) else {
                        throw Diagnostic(a.loc, "zip() over a tuple or list of values is not supported; zip arrays or ranges")
                    }
                    parts.append(part)
                }
                let n = parts.dropFirst().reduce(parts[0].0) { SymExpr.minimum($0, $1.0) }
                return (n, { p in PyExpr(.tuple(parts.map { $0.1(p) }), loc) })
            case "reversed":
                guard args.count == 1, kws.isEmpty else { throw Diagnostic(loc, "reversed() takes one iterable") }
                guard let (n, inner) = try iteration(args[0], values: &values) else {
                    throw Diagnostic(args[0].loc, "reversed() over a tuple or list of values is not supported; reverse an array or a range")
                }
                let last = bound(.scalar(.symbol(n - 1), weak: false))
                return (n, { p in inner(PyExpr(.binOp(last, .sub, p), loc)) })
            default:
                guard (1...3).contains(args.count), kws.isEmpty else { throw Diagnostic(loc, "range() takes one to three integers") }
                let bounds = try args.map { try symbolic($0) }
                let start = bounds.count == 1 ? SymExpr.zero : bounds[0]
                let stop = bounds.count == 1 ? bounds[0] : bounds[1]
                var step = 1
                if bounds.count == 3 {
                    guard let c = bounds[2].constant, c != 0 else {
                        throw Diagnostic(args[2].loc, "the step of range() must be a nonzero integer constant")
                    }
                    step = c
                }
                let n = step > 0 ? SymExpr.maximum(.floorDivide(stop - start + .int(step - 1), .int(step)), .zero)
                    : SymExpr.maximum(.floorDivide(start - stop + .int(-step - 1), .int(-step)), .zero)
                let s = bound(.scalar(.symbol(start), weak: true))
                let st = bound(.scalar(.symbol(.int(step)), weak: true))
                return (n, { p in PyExpr(.binOp(s, .add, PyExpr(.binOp(p, .mult, st), loc)), loc) })
            }
        }
        // np.ndindex(shape) / np.ndindex(d0, d1, ...): index tuples in C order.
        if case .call(let fn, let args, let kws) = iter.kind, case .attribute(let base, "ndindex") = fn.kind,
           case .name(let m) = base.kind, env[m] == nil, ctx.numpyAliases.contains(m), kws.isEmpty {
            let dims = try args.flatMap { try shapeArgument(try lowerExpr($0), loc: $0.loc) }
            let total = dims.reduce(SymExpr.one, *)
            var strides: [SymExpr] = []
            var stride = SymExpr.one
            for d in dims.reversed() { strides.insert(stride, at: 0); stride = stride * d }
            let dimNames = dims.map { bound(.scalar(.symbol($0), weak: false)) }
            let strideNames = strides.map { bound(.scalar(.symbol($0), weak: false)) }
            return (total, { p in
                PyExpr(.tuple(dims.indices.map { k in
                    PyExpr(.binOp(PyExpr(.binOp(p, .floorDiv, strideNames[k]), loc), .mod, dimNames[k]), loc)
                }), loc)
            })
        }
        var v = try compactedValue(try lowerExpr(iter), loc: loc)
        switch v {
        case .tuple(let vs):
            values = vs
            return nil
        case .array(let l):
            guard let n = l.shape.first else {
                throw Diagnostic(loc, "iteration over a 0-d array (Python raises TypeError)")
            }
            // NumPy makes the array first; iterating reads its rows.
            if l.asView == nil { v = .array(try materializeNew(l, hint: "iter", loc: loc)) }
            let x = bound(v)
            return (n, { p in PyExpr(.subscript(x, p), loc) })
        default:
            throw Diagnostic(loc, "cannot iterate over a \(v.kindName); iterate over range(...), an array, enumerate(...), zip(...) or \(ctx.braidAliasName).map[...]")
        }
    }

    /// After a loop over `variables`: names whose values were expressions of them (r = i) read
    /// the variable that kept their last value instead; without one they cannot be read.
    func leaveLoopScope(_ variables: [String], loc: SourceLocation) {
        for (name, value) in env {
            guard case .scalar(.symbol(let sym), _) = value, sym.freeSymbols.contains(where: variables.contains) else { continue }
            if let shadow = loopValueShadows[inlinePrefix + name] {
                env[name] = readScalarContainer(shadow)
            } else {
                env[name] = nil
                staleNames[name] = (name, loc)
            }
        }
    }

    /// An integer expression as a symbolic value; data-dependent integers are first
    /// stored in a fresh integer scalar (whose name then acts as a symbol).
    func symbolic(_ e: PyExpr) throws -> SymExpr {
        let v = try lowerExpr(e)
        guard case .scalar(let x, _) = v, x.dtype.isInteger || x.dtype.isBool else {
            throw Diagnostic(e.loc, "expected an integer here, got a \(v.kindName == "scalar" ? "non-integer scalar" : v.kindName)")
        }
        return symbolicValue(x, loc: e.loc)
    }

    func symbolicValue(_ x: ScalarExpr, loc: SourceLocation) -> SymExpr {
        if case .symbol(let s) = x { return s }
        let t = newScalar("n", .int64)
        emitTasklet(.point(t, []), cast(x, .int64), loc: loc)
        return .sym(t)
    }
}

/// Python spellings for diagnostics.
enum PythonNames {
    static func statement(_ kind: String) -> String {
        switch kind {
        case "With", "AsyncWith": return "with"
        case "Try", "TryStar": return "try"
        case "ClassDef": return "class"
        case "Global": return "global"
        case "Nonlocal": return "nonlocal"
        case "Raise": return "raise"
        case "Delete": return "del"
        case "AsyncFor": return "async for"
        case "AsyncFunctionDef": return "async def"
        case "Match": return "match"
        default: return kind
        }
    }

    static func advice(_ kind: String) -> String {
        switch kind {
        case "Raise", "Try", "TryStar": return "compiled programs cannot raise or catch exceptions; check inputs before calling"
        case "Global", "Nonlocal": return "pass the value as a parameter instead"
        case "ClassDef": return "define classes outside the compiled file"
        default: return "rewrite it with loops, assignments and function calls"
        }
    }

    static func binOp(_ op: PyBinOp) -> String {
        switch op {
        case .add: return "+"
        case .sub: return "-"
        case .mult: return "*"
        case .matMult: return "@"
        case .div: return "/"
        case .mod: return "%"
        case .pow: return "**"
        case .lShift: return "<<"
        case .rShift: return ">>"
        case .bitOr: return "|"
        case .bitXor: return "^"
        case .bitAnd: return "&"
        case .floorDiv: return "//"
        }
    }
}
