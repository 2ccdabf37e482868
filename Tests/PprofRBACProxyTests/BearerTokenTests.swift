import Foundation
import NIOHTTP1
import RequestPolicy
import Testing

@testable import PprofRBACProxy

@Suite("BearerToken: Basic credentials carry the token only when allowed")
struct BearerTokenTests {
    func basic(_ credentials: String) -> HTTPHeaders {
        ["Authorization": "Basic " + Data(credentials.utf8).base64EncodedString()]
    }

    @Test("the password of Basic credentials is the token, whatever the user name")
    func basicPassword() throws {
        #expect(try BearerToken.extract(from: basic("x:alice-token"), acceptingBasic: true) == "alice-token")
        #expect(try BearerToken.extract(from: basic(":alice-token"), acceptingBasic: true) == "alice-token")
        #expect(try BearerToken.extract(from: basic("x:a:b"), acceptingBasic: true) == "a:b", "only the first colon separates")
        #expect(try BearerToken.extract(from: ["Authorization": "basic eDphbGljZS10b2tlbg=="], acceptingBasic: true) == "alice-token")
        #expect(try BearerToken.extract(from: ["Authorization": "Bearer alice-token"], acceptingBasic: true) == "alice-token")
    }

    @Test("the separators are found by byte, as Go finds them: a combining mark after one does not hide it")
    func separatorsByByte() throws {
        // Found by the fuzzer: ":\u{320}…" is one Character, so a Character search missed the colon.
        #expect(try BearerToken.extract(from: basic("x:\u{320}token"), acceptingBasic: true) == "\u{320}token")
        #expect(try BearerToken.extract(from: ["Authorization": "Bearer \u{301}token"]) == "\u{301}token")
    }

    @Test("Basic is no credential without the flag")
    func basicNotAccepted() throws {
        #expect(try BearerToken.extract(from: basic("x:alice-token")) == nil)
        #expect(try BearerToken.extract(from: basic("x:alice-token"), acceptingBasic: false) == nil)
    }

    @Test(
        "malformed Basic credentials are no credential",
        arguments: [
            "Basic", "Basic ", "Basic !!!notbase64", "Basic eDphbGljZS10b2tlbg", "Basic eDphbGljZS10b2tlbg== extra",
            "Basic " + Data("no-colon".utf8).base64EncodedString(), "Basic " + Data("x:".utf8).base64EncodedString(),
            "Basic " + Data([0x78, 0x3A, 0xFF, 0xFE]).base64EncodedString(),
        ]
    )
    func malformed(header: String) throws {
        #expect(try BearerToken.extract(from: ["Authorization": header], acceptingBasic: true) == nil)
    }

    @Test("an oversized token in Basic credentials is no credential")
    func oversized() throws {
        let huge = String(repeating: "a", count: BearerToken.maximumLength + 1)
        #expect(try BearerToken.extract(from: basic("x:" + huge), acceptingBasic: true) == nil)
    }
}
