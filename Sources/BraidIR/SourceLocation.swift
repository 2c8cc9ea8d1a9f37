/// A position in a Python source file (line and column are 1-based).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}


/// A user-facing compile error, always tied to a Python source location.
///
/// Rendered as `file:line:col: error: message`, the format compilers and editors understand.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    public var loc: SourceLocation
    public var message: String
    public init(_ loc: SourceLocation, _ message: String) {
        self.loc = loc
        self.message = message
    }
    public var description: String { "\(loc): error: \(message)" }
}
