package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
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

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Evaluates expressions on one twin with IoT Hub's (DocumentDB's) semantics: a missing property is
 * {@code undefined} (Java null here); comparisons are between primitives of the same type, anything else is
 * undefined; AND, OR and NOT are three-valued; a WHERE matches only when it is exactly {@code true}.
 */
final class QueryEvaluator {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private QueryEvaluator() {
    }

    static boolean matches(Expr where, JsonNode twin, Collection from) {
        if (where == null) {
            return true;
        }
        JsonNode result = eval(where, twin, from);
        return result != null && result.isBoolean() && result.booleanValue();
    }

    static JsonNode eval(Expr expr, JsonNode twin, Collection from) {
        if (expr instanceof Literal l) {
            return l.value();
        }
        if (expr instanceof Path p) {
            return resolve(twin, TwinPaths.relative(p, from));
        }
        if (expr instanceof Binary b) {
            return binary(b, twin, from);
        }
        if (expr instanceof Not n) {
            JsonNode v = eval(n.operand(), twin, from);
            return v != null && v.isBoolean() ? BooleanNode.valueOf(!v.booleanValue()) : null;
        }
        if (expr instanceof Negate n) {
            JsonNode v = eval(n.operand(), twin, from);
            return v != null && v.isNumber() ? NODES.numberNode(-v.doubleValue()) : null;
        }
        if (expr instanceof In in) {
            JsonNode v = eval(in.value(), twin, from);
            if (v == null) {
                return null;
            }
            boolean found = false;
            for (Expr candidate : in.candidates()) {
                JsonNode c = eval(candidate, twin, from);
                if (c != null && Boolean.TRUE.equals(equal(v, c))) {
                    found = true;
                    break;
                }
            }
            return BooleanNode.valueOf(found != in.negated());
        }
        if (expr instanceof Call c) {
            return call(c, twin, from);
        }
        if (expr instanceof ArrayLiteral a) {
            var array = NODES.arrayNode();
            for (Expr e : a.elements()) {
                JsonNode v = eval(e, twin, from);
                array.add(v == null ? NODES.nullNode() : v);
            }
            return array;
        }
        throw QuerySyntax.invalid("aggregates may appear only in SELECT");
    }

    /** Follows a path; the last segment falls back to a case-insensitive match, as IoT Hub's names are. */
    static JsonNode resolve(JsonNode node, List<String> segments) {
        JsonNode current = node;
        for (String segment : segments) {
            if (current == null || !current.isObject()) {
                return null;
            }
            JsonNode next = current.get(segment);
            if (next == null) {
                next = ignoringCase(current, segment);
            }
            current = next;
        }
        return current;
    }

    private static JsonNode ignoringCase(JsonNode object, String name) {
        Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equalsIgnoreCase(name)) {
                return f.getValue();
            }
        }
        return null;
    }

    private static JsonNode binary(Binary b, JsonNode twin, Collection from) {
        switch (b.op()) {
            case "AND": {
                JsonNode l = eval(b.left(), twin, from);
                if (isFalse(l)) {
                    return BooleanNode.FALSE;
                }
                JsonNode r = eval(b.right(), twin, from);
                if (isFalse(r)) {
                    return BooleanNode.FALSE;
                }
                return isTrue(l) && isTrue(r) ? BooleanNode.TRUE : null;
            }
            case "OR": {
                JsonNode l = eval(b.left(), twin, from);
                if (isTrue(l)) {
                    return BooleanNode.TRUE;
                }
                JsonNode r = eval(b.right(), twin, from);
                if (isTrue(r)) {
                    return BooleanNode.TRUE;
                }
                return isFalse(l) && isFalse(r) ? BooleanNode.FALSE : null;
            }
            default:
                break;
        }
        JsonNode l = eval(b.left(), twin, from);
        JsonNode r = eval(b.right(), twin, from);
        if (l == null || r == null) {
            return null;
        }
        switch (b.op()) {
            case "=": {
                Boolean eq = equal(l, r);
                return eq == null ? null : BooleanNode.valueOf(eq);
            }
            case "!=": {
                Boolean eq = equal(l, r);
                return eq == null ? null : BooleanNode.valueOf(!eq);
            }
            case "<", ">", "<=", ">=": {
                Integer cmp = compare(l, r);
                if (cmp == null) {
                    return null;
                }
                boolean result = switch (b.op()) {
                    case "<" -> cmp < 0;
                    case ">" -> cmp > 0;
                    case "<=" -> cmp <= 0;
                    default -> cmp >= 0;
                };
                return BooleanNode.valueOf(result);
            }
            default:
                return arithmetic(b.op(), l, r);
        }
    }

    private static JsonNode arithmetic(String op, JsonNode l, JsonNode r) {
        if (op.equals("+") && l.isTextual() && r.isTextual()) {
            return NODES.textNode(l.textValue() + r.textValue());
        }
        if (!l.isNumber() || !r.isNumber()) {
            return null;
        }
        double a = l.doubleValue();
        double b = r.doubleValue();
        double v = switch (op) {
            case "+" -> a + b;
            case "-" -> a - b;
            case "*" -> a * b;
            case "/" -> b == 0 ? Double.NaN : a / b;
            default -> b == 0 ? Double.NaN : a % b;
        };
        return Double.isNaN(v) || Double.isInfinite(v) ? null : NODES.numberNode(v);
    }

    /** Equality of two primitives of one type; null (undefined) for objects, arrays or mixed types. */
    static Boolean equal(JsonNode l, JsonNode r) {
        if (l.isNull() && r.isNull()) {
            return true;
        }
        if (l.isNumber() && r.isNumber()) {
            return l.doubleValue() == r.doubleValue();
        }
        if (l.isTextual() && r.isTextual()) {
            return l.textValue().equals(r.textValue());
        }
        if (l.isBoolean() && r.isBoolean()) {
            return l.booleanValue() == r.booleanValue();
        }
        return null;
    }

    private static Integer compare(JsonNode l, JsonNode r) {
        if (l.isNumber() && r.isNumber()) {
            return Double.compare(l.doubleValue(), r.doubleValue());
        }
        if (l.isTextual() && r.isTextual()) {
            return Integer.signum(l.textValue().compareTo(r.textValue()));
        }
        return null;
    }

    private static JsonNode call(Call c, JsonNode twin, Collection from) {
        JsonNode a = eval(c.args().get(0), twin, from);
        switch (c.name()) {
            case "IS_DEFINED":
                return BooleanNode.valueOf(a != null);
            case "IS_NULL":
                return BooleanNode.valueOf(a != null && a.isNull());
            case "IS_BOOL":
                return BooleanNode.valueOf(a != null && a.isBoolean());
            case "IS_NUMBER":
                return BooleanNode.valueOf(a != null && a.isNumber());
            case "IS_STRING":
                return BooleanNode.valueOf(a != null && a.isTextual());
            case "IS_OBJECT":
                return BooleanNode.valueOf(a != null && a.isObject());
            case "IS_ARRAY":
                return BooleanNode.valueOf(a != null && a.isArray());
            case "IS_PRIMITIVE":
                return BooleanNode.valueOf(a != null && (a.isValueNode() || a.isNull()));
            case "LOWER":
                return a != null && a.isTextual() ? NODES.textNode(a.textValue().toLowerCase(Locale.ROOT)) : null;
            case "UPPER":
                return a != null && a.isTextual() ? NODES.textNode(a.textValue().toUpperCase(Locale.ROOT)) : null;
            case "LENGTH":
                return a != null && a.isTextual() ? NODES.numberNode(a.textValue().length()) : null;
            case "ABS":
                return a != null && a.isNumber() ? NODES.numberNode(Math.abs(a.doubleValue())) : null;
            default:
                break;
        }
        JsonNode b = eval(c.args().get(1), twin, from);
        if (a == null || b == null || !a.isTextual() || !b.isTextual()) {
            return null;
        }
        return BooleanNode.valueOf(switch (c.name()) {
            case "STARTSWITH" -> a.textValue().startsWith(b.textValue());
            case "ENDSWITH" -> a.textValue().endsWith(b.textValue());
            default -> a.textValue().contains(b.textValue());
        });
    }

    private static boolean isTrue(JsonNode v) {
        return v != null && v.isBoolean() && v.booleanValue();
    }

    private static boolean isFalse(JsonNode v) {
        return v != null && v.isBoolean() && !v.booleanValue();
    }
}
