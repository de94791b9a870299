/// NIfTI-1 (348-byte header) and NIfTI-2 (540-byte header), raw or gzip-compressed (only the
/// header is decompressed).
enum NIfTIProbe {
    enum Kind: Equatable { case nifti1, nifti2 }

    static let nifti1Size = 348
    static let nifti2Size = 540

    /// Which NIfTI header the bytes start with, and whether it is big-endian.
    static func header(_ r: DocByteReader) -> (kind: Kind, bigEndian: Bool)? {
        for be in [false, true] {
            if r.i32(at: 0, bigEndian: be) == Int32(nifti1Size),
               r.matches(Array("n+1\0".utf8), at: 344) || r.matches(Array("ni1\0".utf8), at: 344) {
                return (.nifti1, be)
            }
            if r.i32(at: 0, bigEndian: be) == Int32(nifti2Size),
               r.matches(Array("n+2\0".utf8), at: 4) || r.matches(Array("ni2\0".utf8), at: 4) {
                return (.nifti2, be)
            }
        }
        return nil
    }

    static func kind(_ r: DocByteReader) -> Kind? { header(r)?.kind }

    static func parse(_ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        let ranges = DocRanges(data)
        let head = ranges.run(from: 0, limit: nifti2Size)
        let r = DocByteReader(head)
        guard let h = header(r) else {
            if let t = data.totalSize, Int64(head.count) < min(t, Int64(nifti2Size)) {
                return .needBytes(offset: Int64(head.count), length: nifti2Size - head.count)
            }
            return DocRefusal.corrupt("not a NIfTI-1 or NIfTI-2 header")
        }
        let needed = h.kind == .nifti1 ? nifti1Size : nifti2Size
        guard head.count >= needed else {
            if let t = data.totalSize, t < Int64(needed) {
                return DocRefusal.corrupt("the NIfTI header is truncated")
            }
            return .needBytes(offset: Int64(head.count), length: needed - head.count)
        }
        return describe(r, h, limits: limits, format: h.kind == .nifti1 ? .nifti1 : .nifti2)
    }

    /// `.nii.gz`: inflates just the header, then reads it as NIfTI.
    static func parseGzip(_ data: ProbeData, limits: ProbeLimits) -> FormatParse {
        let ranges = DocRanges(data)
        // The compressed header is normally a few hundred bytes; read at most 1 MiB for it.
        let maxInput = 1 << 20
        let input = ranges.run(from: 0, limit: maxInput)
        let result: InflateResult
        do {
            result = try InflateDecoder.gunzip(input[...], maxOutput: nifti2Size)
        } catch {
            return DocRefusal.corrupt("the gzip stream is malformed (\(error))")
        }
        let r = DocByteReader(result.output)
        if let h = header(r), result.output.count >= (h.kind == .nifti1 ? nifti1Size : nifti2Size) {
            return describe(r, h, limits: limits, format: .gzip)
        }
        if result.end == .inputExhausted, couldBeNIfTI(result.output) {
            if input.count < maxInput, !ranges.isPastEnd(Int64(input.count)) {
                return .needBytes(offset: Int64(input.count), length: min(1 << 16, maxInput - input.count))
            }
            return DocRefusal.corrupt("the gzip stream ends inside the NIfTI header")
        }
        return DocRefusal.unsupported("a gzip file that does not hold a NIfTI image")
    }

    /// Whether a prefix of decompressed bytes is consistent with a NIfTI header.
    static func couldBeNIfTI(_ prefix: [UInt8]) -> Bool {
        let r = DocByteReader(prefix)
        guard r.count >= 4 else { return true }
        for be in [false, true] {
            let size = r.i32(at: 0, bigEndian: be)
            if size == Int32(nifti1Size), r.count < nifti1Size { return true }
            if size == Int32(nifti2Size) {
                if r.count < 8 { return true }
                if r.matches(Array("n+2\0".utf8), at: 4) || r.matches(Array("ni2\0".utf8), at: 4) { return true }
            }
        }
        return false
    }

    static func describe(_ r: DocByteReader, _ h: (kind: Kind, bigEndian: Bool), limits: ProbeLimits,
                         format: MediaFormat) -> FormatParse {
        var dim = [Int64](repeating: 0, count: 8)
        var pixdim = [Double](repeating: 0, count: 8)
        for i in 0..<8 {
            switch h.kind {
            case .nifti1:
                guard let d = r.i16(at: 40 + 2 * i, bigEndian: h.bigEndian),
                      let p = r.f32(at: 76 + 4 * i, bigEndian: h.bigEndian) else {
                    return DocRefusal.corrupt("the NIfTI header is truncated")
                }
                dim[i] = Int64(d)
                pixdim[i] = Double(p)
            case .nifti2:
                guard let d = r.i64(at: 16 + 8 * i, bigEndian: h.bigEndian),
                      let p = r.f64(at: 104 + 8 * i, bigEndian: h.bigEndian) else {
                    return DocRefusal.corrupt("the NIfTI header is truncated")
                }
                dim[i] = d
                pixdim[i] = p
            }
        }
        let n = dim[0]
        guard n >= 1, n <= 7 else {
            return DocRefusal.corrupt("NIfTI dim[0] is \(n), not 1…7")
        }
        let count = Int(n)
        var dims: [Int] = []
        var spacing: [Double] = []
        var voxels: Int64 = 1
        for i in 1...count {
            guard dim[i] >= 0 else { return DocRefusal.corrupt("NIfTI dim[\(i)] is negative") }
            guard dim[i] <= Int64(Int32.max) else { return DocRefusal.corrupt("NIfTI dim[\(i)] is absurdly large") }
            let (v, overflow) = voxels.multipliedReportingOverflow(by: dim[i])
            guard !overflow else { return DocRefusal.corrupt("the NIfTI voxel count overflows") }
            voxels = v
            guard pixdim[i].isFinite else { return DocRefusal.corrupt("NIfTI pixdim[\(i)] is not a finite number") }
            dims.append(Int(dim[i]))
            spacing.append(pixdim[i])
        }
        let width = dims[0]
        let height = count >= 2 ? dims[1] : 1
        if width > limits.maxDimension || height > limits.maxDimension
            || Int64(width) * Int64(height) > limits.maxPixels {
            return .refused(code: .dimensionsExceedLimit,
                            message: "NIfTI slices of \(width)×\(height) exceed the configured limit")
        }
        var info = MediaInfo()
        info.format = format
        info.mimeType = "application/x-nifti"
        info.niftiDims = dims
        info.niftiPixdim = spacing
        info.width = width
        info.height = height
        info.frameCount = count >= 3 ? dims[2] : 1
        return .described(info)
    }
}
