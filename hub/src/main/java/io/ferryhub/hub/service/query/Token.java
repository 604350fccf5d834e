package io.ferryhub.hub.service.query;

/** One lexical token of a query, with its 1-based position in the text for error messages. */
record Token(Kind kind, String text, int position) {
    enum Kind {
        IDENTIFIER, KEYWORD, STRING, NUMBER, SYMBOL, END
    }

    boolean is(Kind k, String t) {
        return kind == k && text.equalsIgnoreCase(t);
    }

    boolean isKeyword(String keyword) {
        return is(Kind.KEYWORD, keyword);
    }

    boolean isSymbol(String symbol) {
        return kind == Kind.SYMBOL && text.equals(symbol);
    }

    String describe() {
        return kind == Kind.END ? "the end of the query" : "'" + text + "'";
    }
}
