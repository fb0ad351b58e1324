{#-
    A source column converted to the graph type its model contract declares.
    The type rule itself (numeric(p,0) -> bigint, arrays -> lists, ...) lives
    in c360.types, which `c360-export models generate` writes into the
    contracts; here only how each conversion keeps the value:
      inet        abbrev(): the address as PostgreSQL shows it, /n only for a network;
      real        through its text, so 1.1 stays 1.1 (not 1.100000023841858);
                  double precision[] too, as a real[] may be behind it (a
                  double's text is exact at the default extra_float_digits);
      lists       an empty list becomes NULL, as neo4j-admin cannot write one;
      bytea       an empty byte array becomes NULL, for the same reason;
      otherwise   a cast, unless the types already agree.
-#}
{% macro graph_column_expression(column_name, source_type, graph_type) -%}
    {%- set column = c360_quote(column_name) -%}
    {%- set target = graph_type | lower -%}
    {%- if source_type == 'inet' -%}
        abbrev({{ column }})
    {%- elif target == 'double precision[]' -%}
        nullif(cast(cast({{ column }} as text[]) as {{ target }}), '{}')
    {%- elif target.endswith('[]') -%}
        nullif(cast({{ column }} as {{ target }}), '{}')
    {%- elif target == 'bytea' -%}
        nullif({{ column }}, '')
    {%- elif source_type == 'real' -%}
        cast(cast({{ column }} as text) as {{ target }})
    {%- elif source_type is not none and source_type == target -%}
        {{ column }}
    {%- else -%}
        cast({{ column }} as {{ graph_type }})
    {%- endif -%}
{%- endmacro %}


{#-
    The value a relationship joins on: the column as is, or lower(trim(text))
    when the relationship row asks for `normalize = lower_trim`.
-#}
{% macro join_value_expression(column_name, normalize) -%}
    {%- set column = c360_quote(column_name) -%}
    {%- if normalize == 'lower_trim' -%}
        lower(trim(cast({{ column }} as text)))
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}


{#-
    One target of a select list, `expression as alias`, as sqlfluff wants it:
    the expression alone when it is the aliased column itself, and `as alias`
    on a line of its own (`indent` + 4) when the target, starting at `column`,
    would pass 80 columns with its comma.
-#}
{% macro c360_select_target(expression, alias, column=8, indent=8) -%}
    {%- set expression = expression | trim -%}
    {%- if expression == alias -%}
        {{ expression }}
    {%- elif column + (expression ~ " as " ~ alias) | length + 1 > 80 -%}
        {{ expression ~ "\n" ~ " " * (indent + 4) ~ "as " ~ alias }}
    {%- else -%}
        {{ expression }} as {{ alias }}
    {%- endif -%}
{%- endmacro %}
