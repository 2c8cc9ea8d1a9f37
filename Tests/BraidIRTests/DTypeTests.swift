import Testing
@testable import BraidIR

@Suite struct DTypeTests {
    @Test func numpyTwoPromotion() {
        #expect(DType.promote(.float32, .float64) == .float64)
        #expect(DType.promote(.int32, .float32) == .float64)
        #expect(DType.promote(.int16, .float32) == .float32)
        #expect(DType.promote(.uint8, .int8) == .int16)
        #expect(DType.promote(.uint64, .int64) == .float64)
        #expect(DType.promote(.bool, .int8) == .int8)
        #expect(DType.promote(.float32, .complex64) == .complex64)
        #expect(DType.promote(.float64, .complex64) == .complex128)
        #expect(DType.promote(.uint32, .int32) == .int64)
    }

    @Test func bufferFormats() {
        #expect(DType.int64.bufferFormats.contains("l"))
        #expect(DType.complex128.bufferFormats == ["Zd"])
        #expect(DType.bool.itemSize == 1)
    }
}
