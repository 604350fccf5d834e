package io.ferryhub.hub.service.query;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Splits a query into tokens: identifiers (letters, digits, {@code _}, {@code $}; {@code [[escaped]]} for reserved
 * words), keywords (case-insensitive), strings in single or double quotes with {@code \' \" \\ \/ \b \f \n \r \t
 * \\uXXXX} escapes, decimal and {@code 0x} numbers, and symbols.
 */
final class QueryLexer {
    static final Set<String> KEYWORDS = Set.of("SELECT", "FROM", "WHERE", "GROUP", "BY", "AS", "AND", "OR", "NOT",
            "IN", "NIN", "TOP", "TRUE", "FALSE", "NULL", "UNDEFINED");
    private static final String[] SYMBOLS = {"<=", ">=", "<>", "!=", "=", "<", ">", "(", ")", "[", "]", ",", ".",
            "*", "+", "-", "/", "%"};

    private final String text;
    private int i;

    private QueryLexer(String text) {
        this.text = text;
    }

    static List<Token> tokens(String text) {
        return new QueryLexer(text).run();
    }

    private List<Token> run() {
        List<Token> out = new ArrayList<>();
        while (true) {
            while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= text.length()) {
                out.add(new Token(Token.Kind.END, "", i + 1));
                return out;
            }
            out.add(next());
        }
    }

    private Token next() {
        int start = i;
        char c = text.charAt(i);
        if (c == '[' && text.startsWith("[[", i)) {
            int end = text.indexOf("]]", i + 2);
            if (end < 0) {
                throw QuerySyntax.error(start + 1, "'[[' without its closing ']]'");
            }
            i = end + 2;
            String name = text.substring(start + 2, end);
            if (name.isEmpty()) {
                throw QuerySyntax.error(start + 1, "an empty escaped name '[[]]'");
            }
            return new Token(Token.Kind.IDENTIFIER, name, start + 1);
        }
        if (Character.isLetter(c) || c == '_' || c == '$') {
            while (i < text.length() && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_'
                    || text.charAt(i) == '$')) {
                i++;
            }
            String word = text.substring(start, i);
            boolean keyword = KEYWORDS.contains(word.toUpperCase(Locale.ROOT));
            return new Token(keyword ? Token.Kind.KEYWORD : Token.Kind.IDENTIFIER, word, start + 1);
        }
        if (Character.isDigit(c)) {
            return number(start);
        }
        if (c == '\'' || c == '"') {
            return string(start, c);
        }
        for (String symbol : SYMBOLS) {
            if (text.startsWith(symbol, i)) {
                i += symbol.length();
                return new Token(Token.Kind.SYMBOL, symbol, start + 1);
            }
        }
        throw QuerySyntax.error(start + 1, "unexpected character '" + c + "'");
    }

    private Token number(int start) {
        if (text.startsWith("0x", i) || text.startsWith("0X", i)) {
            i += 2;
            while (i < text.length() && Character.digit(text.charAt(i), 16) >= 0) {
                i++;
            }
            if (i == start + 2) {
                throw QuerySyntax.error(start + 1, "a hexadecimal number needs digits after '0x'");
            }
            return new Token(Token.Kind.NUMBER, text.substring(start, i), start + 1);
        }
        while (i < text.length() && Character.isDigit(text.charAt(i))) {
            i++;
        }
        if (i < text.length() && text.charAt(i) == '.' && i + 1 < text.length()
                && Character.isDigit(text.charAt(i + 1))) {
            i++;
            while (i < text.length() && Character.isDigit(text.charAt(i))) {
                i++;
            }
        }
        if (i < text.length() && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            int mark = i;
            i++;
            if (i < text.length() && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            if (i >= text.length() || !Character.isDigit(text.charAt(i))) {
                i = mark;
            } else {
                while (i < text.length() && Character.isDigit(text.charAt(i))) {
                    i++;
                }
            }
        }
        if (i < text.length() && (Character.isLetter(text.charAt(i)) || text.charAt(i) == '_')) {
            throw QuerySyntax.error(i + 1, "a name may not start with a digit");
        }
        return new Token(Token.Kind.NUMBER, text.substring(start, i), start + 1);
    }

    private Token string(int start, char quote) {
        StringBuilder out = new StringBuilder();
        i++;
        while (true) {
            if (i >= text.length()) {
                throw QuerySyntax.error(start + 1, "a string without its closing quote");
            }
            char c = text.charAt(i++);
            if (c == quote) {
                return new Token(Token.Kind.STRING, out.toString(), start + 1);
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (i >= text.length()) {
                throw QuerySyntax.error(i, "a string without its closing quote");
            }
            char e = text.charAt(i++);
            switch (e) {
                case '\'', '"', '\\', '/' -> out.append(e);
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'u' -> {
                    if (i + 4 > text.length()) {
                        throw QuerySyntax.error(i - 1, "'\\u' needs four hexadecimal digits");
                    }
                    try {
                        out.append((char) Integer.parseInt(text.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw QuerySyntax.error(i - 1, "'\\u' needs four hexadecimal digits");
                    }
                    i += 4;
                }
                default -> throw QuerySyntax.error(i - 1, "unknown escape '\\" + e + "' in a string");
            }
        }
    }
}
