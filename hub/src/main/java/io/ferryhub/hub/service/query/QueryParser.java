package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.ferryhub.hub.service.query.QueryAst.Aggregate;
import io.ferryhub.hub.service.query.QueryAst.ArrayLiteral;
import io.ferryhub.hub.service.query.QueryAst.Binary;
import io.ferryhub.hub.service.query.QueryAst.Call;
import io.ferryhub.hub.service.query.QueryAst.Collection;
import io.ferryhub.hub.service.query.QueryAst.Expr;
import io.ferryhub.hub.service.query.QueryAst.In;
import io.ferryhub.hub.service.query.QueryAst.Literal;
import io.ferryhub.hub.service.query.QueryAst.Negate;
import io.ferryhub.hub.service.query.QueryAst.Not;
import io.ferryhub.hub.service.query.QueryAst.Path;
import io.ferryhub.hub.service.query.QueryAst.Projection;
import io.ferryhub.hub.service.query.QueryAst.Query;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A recursive-descent parser for IoT Hub's query language:
 * <pre>
 * query      := SELECT [TOP n] ('*' | projection {',' projection}) FROM collection [WHERE expr]
 *               [GROUP BY path {',' path}]
 * projection := (aggregate | expr) [AS name]
 * collection := devices | devices.modules
 * expr       := and {OR and};  and := not {AND not};  not := NOT not | comparison
 * comparison := additive [op additive | [NOT] IN array | NIN array]     op: = != &lt;&gt; &lt; &gt; &lt;= &gt;=
 * additive   := term {(+|-) term};  term := unary {(*|/|%) unary};  unary := '-' unary | primary
 * primary    := literal | array | '(' expr ')' | function '(' [expr {',' expr}] ')' | path
 * path       := name {'.' name | '[' string ']'}
 * </pre>
 */
final class QueryParser {
    static final Set<String> FUNCTIONS = Set.of("IS_DEFINED", "IS_NULL", "IS_BOOL", "IS_NUMBER", "IS_STRING",
            "IS_OBJECT", "IS_ARRAY", "IS_PRIMITIVE", "STARTSWITH", "ENDSWITH", "CONTAINS", "LOWER", "UPPER", "LENGTH",
            "ABS");
    private static final Set<String> AGGREGATES = Set.of("COUNT", "SUM", "AVG", "MIN", "MAX");
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /**
     * The longest query text accepted, in characters. IoT Hub documents no figure; 8 KB holds any real query
     * (an IN list of a few hundred ids) and bounds what one request makes the hub parse.
     */
    static final int MAX_LENGTH = 8192;
    /**
     * How deep expressions may nest: parentheses, NOT, unary minus, function arguments and array elements each
     * count a level, and so does every further operand of an arithmetic chain ({@code a + b + c} is a tree as deep
     * as it is long). Parser and evaluator recurse once per level, so this bounds their stack whatever the text.
     * AND and OR chains are built balanced and cost only their logarithm.
     */
    static final int MAX_DEPTH = 64;

    private final List<Token> tokens;
    private int next;
    private int depth;

    private QueryParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static Query parse(String text) {
        if (text == null || text.isBlank()) {
            throw QuerySyntax.invalid("the query is empty");
        }
        if (text.length() > MAX_LENGTH) {
            throw QuerySyntax.invalid("the query is " + text.length() + " characters long; at most " + MAX_LENGTH
                    + " are accepted");
        }
        return new QueryParser(QueryLexer.tokens(text)).query();
    }

    private Query query() {
        expectKeyword("SELECT");
        Integer top = null;
        if (peek().isKeyword("TOP")) {
            advance();
            Token n = advance();
            if (n.kind() != Token.Kind.NUMBER) {
                throw QuerySyntax.error(n.position(), "TOP needs a number, not " + n.describe());
            }
            try {
                top = Integer.parseInt(n.text());
            } catch (NumberFormatException e) {
                throw QuerySyntax.error(n.position(), "TOP needs a whole number, not " + n.describe());
            }
        }
        List<Projection> projections = new ArrayList<>();
        if (peek().isSymbol("*")) {
            advance();
        } else {
            do {
                projections.add(projection(projections.size() + 1));
            } while (acceptSymbol(","));
        }
        expectKeyword("FROM");
        Collection from = collection();
        Expr where = null;
        if (peek().isKeyword("WHERE")) {
            advance();
            where = expr();
        }
        List<Path> groupBy = new ArrayList<>();
        if (peek().isKeyword("GROUP")) {
            advance();
            expectKeyword("BY");
            do {
                groupBy.add(path(advance()));
            } while (acceptSymbol(","));
        }
        Token end = peek();
        if (end.kind() != Token.Kind.END) {
            throw QuerySyntax.error(end.position(), "unexpected " + end.describe());
        }
        return new Query(top, projections, from, where, groupBy);
    }

    private Projection projection(int index) {
        Token start = peek();
        Expr expr;
        if (start.kind() == Token.Kind.IDENTIFIER && AGGREGATES.contains(start.text().toUpperCase(Locale.ROOT))
                && tokenAt(next + 1).isSymbol("(")) {
            expr = aggregate();
        } else {
            expr = expr();
        }
        String alias;
        if (peek().isKeyword("AS")) {
            advance();
            Token name = advance();
            if (name.kind() != Token.Kind.IDENTIFIER) {
                throw QuerySyntax.error(name.position(), "AS needs a name, not " + name.describe());
            }
            alias = name.text();
        } else if (expr instanceof Path p) {
            alias = p.segments().get(p.segments().size() - 1);
        } else if (expr instanceof Aggregate a) {
            alias = a.function().toLowerCase(Locale.ROOT);
        } else {
            alias = "$" + index;
        }
        return new Projection(expr, alias);
    }

    private Aggregate aggregate() {
        Token name = advance();
        String function = name.text().toUpperCase(Locale.ROOT);
        expectSymbol("(");
        Path argument = null;
        if (function.equals("COUNT")) {
            expectSymbol(")");
        } else {
            argument = path(advance());
            expectSymbol(")");
        }
        return new Aggregate(function, argument);
    }

    private Collection collection() {
        Token first = advance();
        if (first.kind() != Token.Kind.IDENTIFIER || !first.text().equalsIgnoreCase("devices")) {
            throw QuerySyntax.error(first.position(), "FROM takes devices or devices.modules, not "
                    + first.describe());
        }
        if (!acceptSymbol(".")) {
            return Collection.DEVICES;
        }
        Token second = advance();
        if (second.kind() == Token.Kind.IDENTIFIER && second.text().equalsIgnoreCase("modules")) {
            return Collection.MODULES;
        }
        if (second.kind() == Token.Kind.IDENTIFIER && second.text().equalsIgnoreCase("jobs")) {
            throw QuerySyntax.invalid("devices.jobs is not supported by this hub (jobs are not implemented)");
        }
        throw QuerySyntax.error(second.position(), "FROM takes devices or devices.modules, not devices."
                + second.text());
    }

    private Expr expr() {
        List<Expr> operands = new ArrayList<>(List.of(and()));
        while (peek().isKeyword("OR")) {
            advance();
            operands.add(and());
        }
        return balanced("OR", operands, 0, operands.size());
    }

    private Expr and() {
        List<Expr> operands = new ArrayList<>(List.of(not()));
        while (peek().isKeyword("AND")) {
            advance();
            operands.add(not());
        }
        return balanced("AND", operands, 0, operands.size());
    }

    /**
     * A chain of one associative operator as a balanced tree, operands in their order: {@code a AND b AND c AND d}
     * evaluates as {@code (a AND b) AND (c AND d)}, which three-valued AND and OR answer alike, while a chain of
     * hundreds of conditions stays a few levels deep.
     */
    private static Expr balanced(String op, List<Expr> operands, int from, int to) {
        if (to - from == 1) {
            return operands.get(from);
        }
        int middle = (from + to) >>> 1;
        return new Binary(op, balanced(op, operands, from, middle), balanced(op, operands, middle, to));
    }

    private Expr not() {
        if (peek().isKeyword("NOT")) {
            nest(advance());
            Expr negated = new Not(not());
            depth--;
            return negated;
        }
        return comparison();
    }

    /** One level deeper, or IoT Hub's error when that is too deep. */
    private void nest(Token at) {
        if (++depth > MAX_DEPTH) {
            throw QuerySyntax.error(at.position(), "expressions nest deeper than " + MAX_DEPTH + " levels");
        }
    }

    private Expr comparison() {
        Expr left = additive();
        Token t = peek();
        if (t.kind() == Token.Kind.SYMBOL && Set.of("=", "!=", "<>", "<", ">", "<=", ">=").contains(t.text())) {
            advance();
            String op = t.text().equals("<>") ? "!=" : t.text();
            return new Binary(op, left, additive());
        }
        if (t.isKeyword("IN") || t.isKeyword("NIN")) {
            advance();
            return new In(left, arrayElements(), t.isKeyword("NIN"));
        }
        if (t.isKeyword("NOT") && tokenAt(next + 1).isKeyword("IN")) {
            advance();
            advance();
            return new In(left, arrayElements(), true);
        }
        return left;
    }

    private List<Expr> arrayElements() {
        Token open = peek();
        if (!open.isSymbol("[")) {
            throw QuerySyntax.error(open.position(), "IN and NIN take an array like ['a', 'b'], not "
                    + open.describe());
        }
        return ((ArrayLiteral) primary()).elements();
    }

    private Expr additive() {
        Expr left = term();
        int levels = 0;
        while (peek().isSymbol("+") || peek().isSymbol("-")) {
            Token op = advance();
            nest(op);
            levels++;
            left = new Binary(op.text(), left, term());
        }
        depth -= levels;
        return left;
    }

    private Expr term() {
        Expr left = unary();
        int levels = 0;
        while (peek().isSymbol("*") || peek().isSymbol("/") || peek().isSymbol("%")) {
            Token op = advance();
            nest(op);
            levels++;
            left = new Binary(op.text(), left, unary());
        }
        depth -= levels;
        return left;
    }

    private Expr unary() {
        if (peek().isSymbol("-")) {
            nest(advance());
            Expr operand = unary();
            depth--;
            if (operand instanceof Literal l && l.value() != null && l.value().isNumber()) {
                return new Literal(negate(l.value()));
            }
            return new Negate(operand);
        }
        return primary();
    }

    private Expr primary() {
        Token t = advance();
        switch (t.kind()) {
            case STRING:
                return new Literal(NODES.textNode(t.text()));
            case NUMBER:
                return new Literal(number(t));
            case KEYWORD:
                switch (t.text().toUpperCase(Locale.ROOT)) {
                    case "TRUE":
                        return new Literal(NODES.booleanNode(true));
                    case "FALSE":
                        return new Literal(NODES.booleanNode(false));
                    case "NULL":
                        return new Literal(NODES.nullNode());
                    case "UNDEFINED":
                        return new Literal(null);
                    default:
                        throw QuerySyntax.error(t.position(), "unexpected " + t.describe()
                                + (t.isKeyword("GROUP") ? " (escape reserved words as [[group]])" : ""));
                }
            case SYMBOL:
                if (t.isSymbol("(")) {
                    nest(t);
                    Expr inner = expr();
                    expectSymbol(")");
                    depth--;
                    return inner;
                }
                if (t.isSymbol("[")) {
                    nest(t);
                    List<Expr> elements = new ArrayList<>();
                    if (!acceptSymbol("]")) {
                        do {
                            elements.add(expr());
                        } while (acceptSymbol(","));
                        expectSymbol("]");
                    }
                    depth--;
                    return new ArrayLiteral(elements);
                }
                throw QuerySyntax.error(t.position(), "unexpected " + t.describe());
            case IDENTIFIER:
                if (peek().isSymbol("(")) {
                    return call(t);
                }
                return path(t);
            default:
                throw QuerySyntax.error(t.position(), "unexpected " + t.describe());
        }
    }

    private Expr call(Token name) {
        String function = name.text().toUpperCase(Locale.ROOT);
        if (AGGREGATES.contains(function)) {
            throw QuerySyntax.error(name.position(), function + "() is an aggregate: it may appear only in SELECT");
        }
        if (!FUNCTIONS.contains(function)) {
            throw QuerySyntax.error(name.position(), "unknown function " + name.text());
        }
        expectSymbol("(");
        nest(name);
        List<Expr> args = new ArrayList<>();
        if (!acceptSymbol(")")) {
            do {
                args.add(expr());
            } while (acceptSymbol(","));
            expectSymbol(")");
        }
        depth--;
        int wanted = switch (function) {
            case "STARTSWITH", "ENDSWITH", "CONTAINS" -> 2;
            default -> 1;
        };
        if (args.size() != wanted) {
            throw QuerySyntax.error(name.position(), function + " takes " + wanted + " argument"
                    + (wanted == 1 ? "" : "s") + ", not " + args.size());
        }
        return new Call(function, args);
    }

    private Path path(Token first) {
        if (first.kind() != Token.Kind.IDENTIFIER) {
            throw QuerySyntax.error(first.position(), "expected a property name, not " + first.describe());
        }
        List<String> segments = new ArrayList<>();
        segments.add(first.text());
        while (true) {
            if (peek().isSymbol(".")) {
                advance();
                Token name = advance();
                // after a dot any word is a name, reserved or not
                if (name.kind() != Token.Kind.IDENTIFIER && name.kind() != Token.Kind.KEYWORD) {
                    throw QuerySyntax.error(name.position(), "expected a property name after '.', not "
                            + name.describe());
                }
                segments.add(name.text());
            } else if (peek().isSymbol("[") && tokenAt(next + 1).kind() == Token.Kind.STRING) {
                advance();
                segments.add(advance().text());
                expectSymbol("]");
            } else {
                return new Path(List.copyOf(segments), first.position());
            }
        }
    }

    private static JsonNode number(Token t) {
        String text = t.text();
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                // beyond a long, a hexadecimal number becomes a double as a decimal one does (BigDecimal below
                // cannot read the 0x form)
                BigInteger value = new BigInteger(text.substring(2), 16);
                return value.bitLength() < 64 ? NODES.numberNode(value.longValue())
                        : NODES.numberNode(value.doubleValue());
            }
            if (text.contains(".") || text.contains("e") || text.contains("E")) {
                return NODES.numberNode(Double.parseDouble(text));
            }
            return NODES.numberNode(Long.parseLong(text));
        } catch (ArithmeticException | NumberFormatException e) {
            return NODES.numberNode(new BigDecimal(text).doubleValue());
        }
    }

    private static JsonNode negate(JsonNode n) {
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return NODES.numberNode(-n.longValue());
        }
        return NODES.numberNode(-n.doubleValue());
    }

    // ---- token helpers

    private Token peek() {
        return tokens.get(next);
    }

    private Token tokenAt(int index) {
        return tokens.get(Math.min(index, tokens.size() - 1));
    }

    private Token advance() {
        Token t = tokens.get(next);
        if (t.kind() != Token.Kind.END) {
            next++;
        }
        return t;
    }

    private boolean acceptSymbol(String symbol) {
        if (peek().isSymbol(symbol)) {
            advance();
            return true;
        }
        return false;
    }

    private void expectSymbol(String symbol) {
        Token t = advance();
        if (!t.isSymbol(symbol)) {
            throw QuerySyntax.error(t.position(), "expected '" + symbol + "', not " + t.describe());
        }
    }

    private void expectKeyword(String keyword) {
        Token t = advance();
        if (!t.isKeyword(keyword)) {
            throw QuerySyntax.error(t.position(), "expected " + keyword + ", not " + t.describe());
        }
    }
}
