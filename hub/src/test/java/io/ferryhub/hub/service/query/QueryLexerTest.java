package io.ferryhub.hub.service.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryLexerTest {
    private static List<String> kinds(String text) {
        return QueryLexer.tokens(text).stream().map(t -> t.kind() + ":" + t.text()).toList();
    }

    @Test
    void keywordsIdentifiersNumbersStringsAndSymbols() {
        assertEquals(List.of("KEYWORD:select", "SYMBOL:*", "KEYWORD:FROM", "IDENTIFIER:devices", "KEYWORD:where",
                "IDENTIFIER:$version", "SYMBOL:>=", "NUMBER:0x1F", "KEYWORD:AND", "IDENTIFIER:tags", "SYMBOL:.",
                "IDENTIFIER:a_1", "SYMBOL:<>", "STRING:it's", "END:"),
                kinds("select * FROM devices where $version >= 0x1F AND tags.a_1 <> 'it\\'s'"));
    }

    @Test
    void positionsAreOneBased() {
        List<Token> tokens = QueryLexer.tokens("  a = 1");
        assertEquals(3, tokens.get(0).position());
        assertEquals(5, tokens.get(1).position());
        assertEquals(7, tokens.get(2).position());
        assertEquals(8, tokens.get(3).position(), "END is just past the text");
    }

    @Test
    void numbersWithFractionsAndExponentsAreOneToken() {
        assertEquals(List.of("NUMBER:1.5e-3", "END:"), kinds("1.5e-3"));
        assertEquals(List.of("NUMBER:1", "SYMBOL:.", "IDENTIFIER:x", "END:"), kinds("1 .x"));
        assertEquals(List.of("NUMBER:2", "IDENTIFIER:e", "END:"), kinds("2 e"));
        assertEquals(List.of("NUMBER:3", "SYMBOL:.", "END:"), kinds("3."));
    }

    @Test
    void escapesInStringsAndEscapedNames() {
        assertEquals("a\"b\\c/\b\f\n\r\té", QueryLexer.tokens("\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\"").get(0).text());
        Token escaped = QueryLexer.tokens("[[select]]").get(0);
        assertEquals(Token.Kind.IDENTIFIER, escaped.kind());
        assertEquals("select", escaped.text());
    }

    @Test
    void malformedInputIsArgumentInvalidWithAPosition() {
        for (String bad : new String[] {"'open", "\"a\\", "'\\x'", "'\\u12'", "'\\uzzzz'", "[[name", "[[]]",
                "0x", "1abc", "a # b", "a ; b", "`x`"}) {
            HubException e = assertThrows(HubException.class, () -> QueryLexer.tokens(bad), bad);
            assertEquals(HubErrorCode.ArgumentInvalid, e.errorCode(), bad);
            assertTrue(e.getMessage().contains("position"), e.getMessage());
        }
    }
}
