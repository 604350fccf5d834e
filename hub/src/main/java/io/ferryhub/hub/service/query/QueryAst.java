package io.ferryhub.hub.service.query;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/** The parsed form of a query. */
final class QueryAst {
    private QueryAst() {
    }

    enum Collection {
        DEVICES, MODULES
    }

    /** {@code projections} is empty for {@code SELECT *}; {@code top} is null without TOP. */
    record Query(Integer top, List<Projection> projections, Collection from, Expr where, List<Path> groupBy) {
        boolean isAggregate() {
            return !groupBy.isEmpty() || projections.stream().anyMatch(p -> p.expr() instanceof Aggregate);
        }
    }

    record Projection(Expr expr, String alias) {
    }

    sealed interface Expr permits Literal, Path, Binary, Not, Negate, Call, ArrayLiteral, In, Aggregate {
    }

    /** A constant; {@code value == null} is {@code undefined}. */
    record Literal(JsonNode value) implements Expr {
    }

    /** An attribute path like {@code tags.location.region}; segments as written. */
    record Path(List<String> segments, int position) implements Expr {
        String dotted() {
            return String.join(".", segments);
        }
    }

    record Binary(String op, Expr left, Expr right) implements Expr {
    }

    record Not(Expr operand) implements Expr {
    }

    record Negate(Expr operand) implements Expr {
    }

    /** A function call; {@code name} upper-cased. */
    record Call(String name, List<Expr> args) implements Expr {
    }

    record ArrayLiteral(List<Expr> elements) implements Expr {
    }

    /** {@code IN} or, with {@code negated}, {@code NIN} / {@code NOT IN}. */
    record In(Expr value, List<Expr> candidates, boolean negated) implements Expr {
    }

    /** COUNT() (argument null), SUM, AVG, MIN, MAX; {@code function} upper-cased. */
    record Aggregate(String function, Path argument) implements Expr {
    }
}
