extension DataDictionary {
    /// A builder holding every field of `message` (8, 9 and 10 excepted) in canonical order:
    /// header fields in the header, body fields ascending by tag, each repeating group kept
    /// together after its NumInGroup field with its entries in received order and each entry's
    /// fields in dictionary order (nested groups likewise), then the trailer. Values are copied
    /// byte for byte.
    ///
    /// Used to echo and resend messages in the form a strict counterparty expects. A MsgType the
    /// dictionary does not define is copied with its body ascending by tag and no groups.
    public func canonicalBuilder(copying message: FIXMessage) -> FIXMessageBuilder {
        var builder = FIXMessageBuilder(msgType: message.msgType, beginString: message.beginString)
        let t = tables
        let bodyScope = message.withValueBytes(at: Swift.min(2, message.count - 1)) { t.messageScope($0) }
        message.fields.withUnsafeBufferPointer { f in
            message.bytes.withUnsafeReadableBytes { raw in
                let end = message.count - 1
                var i = 3
                while i < end {
                    let tag = Int(f[i]._tag)
                    let info = t.info(tag)
                    let section: UInt8
                    let scope: Int
                    if info & CompiledTables.headerBit != 0 {
                        (section, scope) = (0, CompiledTables.headerScope)
                    } else if info & CompiledTables.trailerBit != 0 {
                        (section, scope) = (2, CompiledTables.trailerScope)
                    } else {
                        (section, scope) = (1, bodyScope)
                    }
                    builder.appendCopied(
                        tag: tag, value: raw, f[i], section: section, sortTag: Int(FIXMessageBuilder.sortTag(of: tag)),
                        inGroup: false)
                    let m = scope >= 0 ? t.member(tag, in: scope) : CompiledTables.notFound
                    i += 1
                    if m != CompiledTables.notFound && m >> 16 != 0 {
                        i = copyGroup(
                            scope: Int(m >> 16) - 1, fields: f, raw: raw, from: i, limit: end, section: section,
                            sortTag: tag, into: &builder)
                    }
                }
            }
        }
        return builder
    }

    /// Copies one group's entries, each with its fields in dictionary order; returns the index
    /// after the group.
    private func copyGroup(
        scope: Int, fields f: UnsafeBufferPointer<FIXFieldRef>, raw: UnsafeRawBufferPointer, from: Int, limit: Int,
        section: UInt8, sortTag: Int, into builder: inout FIXMessageBuilder
    ) -> Int {
        let t = tables
        var entries: [Range<Int>] = []
        let after = t.walkGroup(scope: scope, fields: f, from: from, limit: limit) { entries.append($0) }
        for entry in entries {
            // (position, index of the member's first field) for the entry's own members.
            var members: [(position: Int, index: Int, member: UInt32)] = []
            var i = entry.lowerBound
            while i < entry.upperBound {
                let m = t.member(Int(f[i]._tag), in: scope)
                members.append((Int(m & 0xFFFF), i, m))
                i += 1
                if m >> 16 != 0 {
                    i = t.walkGroup(scope: Int(m >> 16) - 1, fields: f, from: i, limit: entry.upperBound) { _ in }
                }
            }
            // A stable sort: duplicated members (tolerated without group-order validation) keep their order.
            members = members.enumerated().sorted {
                ($0.element.position, $0.offset) < ($1.element.position, $1.offset)
            }.map(\.element)
            for member in members {
                let tag = Int(f[member.index]._tag)
                builder.appendCopied(
                    tag: tag, value: raw, f[member.index], section: section, sortTag: sortTag, inGroup: true)
                if member.member >> 16 != 0 {
                    _ = copyGroup(
                        scope: Int(member.member >> 16) - 1, fields: f, raw: raw, from: member.index + 1,
                        limit: entry.upperBound, section: section, sortTag: sortTag, into: &builder)
                }
            }
        }
        return Swift.max(after, from)
    }
}

extension FIXMessageBuilder {
    /// Appends a received field verbatim with an explicit place in the canonical order.
    mutating func appendCopied(
        tag: Int, value raw: UnsafeRawBufferPointer, _ f: FIXFieldRef, section: UInt8, sortTag: Int, inGroup: Bool
    ) {
        let length = f.valueLength
        // As every field is kept: `tag=`, the value and SOH.
        let s = writableStorage(bytes: length + 12)
        let prefix = FIXMessageBuilder.putTagPrefix(
            tag, UnsafeMutableRawBufferPointer(start: s.bytes + byteCount, count: length + 12))
        let start = byteCount + prefix
        if length > 0 {
            (s.bytes + start).copyMemory(from: raw.baseAddress! + f.valueStart, byteCount: length)
        }
        s.bytes.storeBytes(of: SOH, toByteOffset: start + length, as: UInt8.self)
        byteCount = start + length + 1
        // Copied fields keep the order they are given in, which need not be the canonical one.
        runSection = FIXMessageBuilder.brokenRun
        if !inGroup { tagFilter |= 1 << UInt64(tag & 63) }
        append(
            Entry(
                tag: UInt32(tag), start: UInt32(start), length: UInt32(length), section: section,
                sortTag: UInt32(sortTag), inGroup: inGroup, prefix: prefix), to: s)
    }
}
