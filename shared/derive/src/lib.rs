//! `#[derive(FromJson)]`: reads a type from a `serde_json::Value` as its
//! `#[derive(Deserialize)]` does (from `beckon_shared::json::from_value`), by the same
//! `#[serde(…)]` attributes, but as straight-line code: each field taken from the object by
//! its name. serde's derive makes a field enum, a visitor with a loop and a slot per field,
//! and its error paths for every type — most of what the browser apps' JSON reading weighs
//! (see `beckon_shared::json::FromJson`).
//!
//! Read: structs with named fields (`rename`, `default`, `default = "…"`,
//! `skip_deserializing`, container `rename_all`, `default`, `deny_unknown_fields`), newtype
//! structs, externally tagged enums (unit, newtype and struct variants; `rename`, `other`)
//! and internally tagged ones (`tag`, from `tagged!` only: unit and struct variants, the
//! fields beside the tag). Any other serde attribute that changes reading, or one at a level
//! where the derive does not read it, is a compile error: such a type implements `FromJson`
//! by hand, or through serde (`beckon_shared::serde_reads!`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Fields, LitStr, Path};

#[proc_macro_derive(FromJson, attributes(serde, json))]
pub fn derive(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Where an attribute is: serde reads some at one level only.
#[derive(Clone, Copy, PartialEq)]
enum Level {
    Container,
    Variant,
    Field,
}

/// The serde attributes of one item, field or variant that reading depends on.
#[derive(Default)]
struct Attrs {
    rename: Option<String>,
    rename_all: Option<String>,
    /// `default`: `Some(None)`; `default = "path"`: `Some(Some(path))`.
    default: Option<Option<Path>>,
    deny_unknown_fields: bool,
    skip: bool,
    other: bool,
    transparent: bool,
    /// An internally tagged enum's tag field.
    tag: Option<String>,
    /// `#[json(tagged)]`: the enum is `tagged!`'s, which alone may read `tag` (see `expand`).
    tagged: bool,
}

fn attrs(list: &[Attribute], level: Level) -> syn::Result<Attrs> {
    use Level::*;
    let mut a = Attrs::default();
    for attr in list.iter().filter(|a| a.path().is_ident("json")) {
        attr.parse_nested_meta(|meta| match meta.path.get_ident() {
            Some(i) if i == "tagged" && level == Container => {
                a.tagged = true;
                Ok(())
            }
            _ => Err(meta.error("#[derive(FromJson)] knows #[json(tagged)] on an enum only")),
        })?;
    }
    for attr in list.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            let name = p.get_ident().map(ToString::to_string).unwrap_or_default();
            // What reading depends on, at the levels the derive reads it; writing-only
            // attributes anywhere.
            match (name.as_str(), level) {
                ("rename", Variant | Field) => {
                    a.rename = Some(meta.value()?.parse::<LitStr>()?.value())
                }
                ("rename_all", Container) => {
                    a.rename_all = Some(meta.value()?.parse::<LitStr>()?.value())
                }
                ("default", Container | Field) => {
                    a.default = Some(if meta.input.peek(syn::Token![=]) {
                        Some(meta.value()?.parse::<LitStr>()?.parse()?)
                    } else {
                        None
                    })
                }
                ("deny_unknown_fields", Container) => a.deny_unknown_fields = true,
                ("skip_deserializing" | "skip", Variant | Field) => a.skip = true,
                ("other", Variant) => a.other = true,
                ("transparent", Container) => a.transparent = true,
                ("tag", Container) => a.tag = Some(meta.value()?.parse::<LitStr>()?.value()),
                ("skip_serializing", _) => {}
                ("skip_serializing_if" | "serialize_with" | "into" | "bound", _) => {
                    meta.value()?.parse::<syn::Expr>()?;
                }
                _ => {
                    return Err(meta.error(format!(
                        "#[derive(FromJson)] does not read #[serde({name})] here: implement \
                         FromJson by hand, or through serde (serde_reads!)"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(a)
}

/// serde's `rename_all` for a field (snake_case in Rust) or a variant (PascalCase).
fn renamed(rule: Option<&str>, name: &str, variant: bool, span: Span) -> syn::Result<String> {
    let snake = |s: &str| {
        let mut out = String::new();
        for (i, c) in s.char_indices() {
            if c.is_uppercase() && i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    };
    let pascal_from_snake = |s: &str| {
        let mut out = String::new();
        let mut up = true;
        for c in s.chars() {
            if c == '_' {
                up = true;
            } else if up {
                out.push(c.to_ascii_uppercase());
                up = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    let lower_first = |s: String| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
            .unwrap_or_default()
    };
    Ok(match (rule, variant) {
        (None, _) => name.to_owned(),
        (Some("lowercase"), true) => name.to_ascii_lowercase(),
        (Some("UPPERCASE"), _) => name.to_ascii_uppercase(),
        (Some("PascalCase"), true) => name.to_owned(),
        (Some("camelCase"), true) => lower_first(name.to_owned()),
        (Some("snake_case"), true) => snake(name),
        (Some("SCREAMING_SNAKE_CASE"), true) => snake(name).to_ascii_uppercase(),
        (Some("kebab-case"), true) => snake(name).replace('_', "-"),
        (Some("lowercase" | "snake_case"), false) => name.to_owned(),
        (Some("PascalCase"), false) => pascal_from_snake(name),
        (Some("camelCase"), false) => lower_first(pascal_from_snake(name)),
        (Some("SCREAMING_SNAKE_CASE"), false) => name.to_ascii_uppercase(),
        (Some("kebab-case"), false) => name.replace('_', "-"),
        (Some(other), _) => {
            return Err(syn::Error::new(
                span,
                format!("#[derive(FromJson)] does not know rename_all = \"{other}\""),
            ))
        }
    })
}

/// The fields of a struct (or struct variant) read from the object `__m`, as `name: value,`.
fn named_fields(fields: &syn::FieldsNamed, container: &Attrs) -> syn::Result<TokenStream> {
    let json = quote!(::beckon_shared::json);
    let mut out = TokenStream::new();
    let mut keys = std::collections::BTreeSet::new();
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("a named field");
        let a = attrs(&f.attrs, Level::Field)?;
        let key = match a.rename {
            Some(r) => r,
            None => renamed(
                container.rename_all.as_deref(),
                &ident.unraw().to_string(),
                false,
                ident.span(),
            )?,
        };
        if !a.skip && !keys.insert(key.clone()) {
            return Err(syn::Error::new_spanned(
                ident,
                format!("#[derive(FromJson)]: two fields read \"{key}\""),
            ));
        }
        // serde's order: the field's own default, then the container's, then `Default`.
        let default = match (&a.default, &container.default) {
            (Some(None), _) => quote!(::core::default::Default::default()),
            (Some(Some(path)), _) => quote!(#path()),
            (None, Some(_)) => quote!(__default.#ident),
            (None, None) => quote!(::core::default::Default::default()),
        };
        let value = if a.skip {
            default
        } else if let Some(path) = &a.default {
            let path = match path {
                Some(path) => quote!(#path),
                None => quote!(::core::default::Default::default),
            };
            quote!(#json::field_or(&mut __m, #key, #path)?)
        } else if container.default.is_some() {
            quote!(match __m.take(#key) {
                ::core::option::Option::Some(__v) => #json::read_field(__v, #key)?,
                ::core::option::Option::None => #default,
            })
        } else {
            quote!(#json::field(&mut __m, #key)?)
        };
        out.extend(quote!(#ident: #value,));
    }
    Ok(out)
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let json = quote!(::beckon_shared::json);
    let name = &input.ident;
    // Each type parameter read as the type's fields are: `T: FromJson`.
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#json::FromJson));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let container = attrs(&input.attrs, Level::Container)?;
    // What a field of this type reads as when it is not there: only a transparent newtype
    // passes it on (`Option` inside reads as `None`, as serde's transparent derive does).
    let mut absent = None;
    let body = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(fields) if !container.transparent => {
                let fields = named_fields(fields, &container)?;
                let default = container.default.as_ref().map(|path| match path {
                    Some(path) => quote!(let __default: Self = #path();),
                    None => quote!(let __default = <Self as ::core::default::Default>::default();),
                });
                let deny = container
                    .deny_unknown_fields
                    .then(|| quote!(#json::no_more(&__m)?;));
                quote! {
                    let mut __m = #json::object(__v)?;
                    #default
                    let __read = Self { #fields };
                    #deny
                    ::core::result::Result::Ok(__read)
                }
            }
            Fields::Named(fields) if fields.named.len() == 1 => {
                let ident = &fields.named[0].ident;
                absent = Some(quote!(Self { #ident: #json::FromJson::absent()? }));
                quote!(::core::result::Result::Ok(Self { #ident: #json::FromJson::from_json(__v)? }))
            }
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                if container.transparent {
                    absent = Some(quote!(Self(#json::FromJson::absent()?)));
                }
                quote!(::core::result::Result::Ok(Self(#json::FromJson::from_json(__v)?)))
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    name,
                    "#[derive(FromJson)] reads structs with named fields and newtypes",
                ))
            }
        },
        Data::Enum(e) => {
            if container.default.is_some() || container.transparent {
                return Err(syn::Error::new_spanned(
                    name,
                    "#[derive(FromJson)]: an enum's default or transparent is not read",
                ));
            }
            // serde's own `tag` reader also takes the variant's index for a tag and the
            // `[tag, fields…]` form; `tagged!`'s (`tagged::tag_of`) takes neither, and this
            // reads as that one does, so only `tagged!` may ask for it.
            if container.tag.is_some() && !container.tagged {
                return Err(syn::Error::new_spanned(
                    name,
                    "#[derive(FromJson)] reads #[serde(tag)] as tagged! does: use tagged!",
                ));
            }
            let mut arms = TokenStream::new();
            let mut names = Vec::new();
            // The `#[serde(other)]` variant, which any other name reads as.
            let mut other = None;
            for var in &e.variants {
                let a = attrs(&var.attrs, Level::Variant)?;
                let ident = &var.ident;
                if a.skip {
                    continue;
                }
                if a.other {
                    other = Some(ident);
                    continue;
                }
                let key = match a.rename {
                    Some(r) => r,
                    None => renamed(
                        container.rename_all.as_deref(),
                        &ident.unraw().to_string(),
                        true,
                        ident.span(),
                    )?,
                };
                let deny = container
                    .deny_unknown_fields
                    .then(|| quote!(#json::no_more(&__m)?;));
                // Variant fields follow the enum's deny_unknown_fields, not its rename_all.
                let fields_container = Attrs {
                    deny_unknown_fields: container.deny_unknown_fields,
                    ..Attrs::default()
                };
                if container.tag.is_some() {
                    // Internally tagged: the fields beside the tag, in the same object.
                    let read = match &var.fields {
                        Fields::Unit => quote!(Self::#ident),
                        Fields::Named(f) => {
                            let fields = named_fields(f, &fields_container)?;
                            quote!(Self::#ident { #fields })
                        }
                        Fields::Unnamed(_) => {
                            return Err(syn::Error::new_spanned(
                                var,
                                "#[derive(FromJson)] reads an internally tagged enum's unit and struct variants",
                            ))
                        }
                    };
                    arms.extend(quote!(#key => {
                        let __read = #read;
                        #deny
                        ::core::result::Result::Ok(__read)
                    }));
                    names.push(key);
                    continue;
                }
                let read = match &var.fields {
                    Fields::Unit => {
                        quote!({ #json::unit(__inner)?; ::core::result::Result::Ok(Self::#ident) })
                    }
                    Fields::Unnamed(f) if f.unnamed.len() == 1 => quote!(
                        ::core::result::Result::Ok(Self::#ident(#json::FromJson::from_json(#json::inner(__inner)?)?))
                    ),
                    Fields::Named(f) => {
                        let fields = named_fields(f, &fields_container)?;
                        quote!({
                            let mut __m = #json::object(#json::inner(__inner)?)?;
                            let __read = Self::#ident { #fields };
                            #deny
                            ::core::result::Result::Ok(__read)
                        })
                    }
                    _ => {
                        return Err(syn::Error::new_spanned(
                            var,
                            "#[derive(FromJson)] reads unit, newtype and struct variants",
                        ))
                    }
                };
                arms.extend(quote!(#key => #read,));
                names.push(key);
            }
            match &container.tag {
                Some(tag) => {
                    let fallback = match other {
                        Some(ident) => quote!(::core::result::Result::Ok(Self::#ident)),
                        None => quote!(::core::result::Result::Err(
                            #json::unknown(#tag, &__name, &[#(#names),*])
                        )),
                    };
                    quote! {
                        let mut __m = #json::object(__v)?;
                        let __name = #json::tag(&mut __m, #tag)?;
                        match __name.as_str() {
                            #arms
                            _ => #fallback,
                        }
                    }
                }
                None => {
                    let fallback = match other {
                        Some(ident) => {
                            quote!({ #json::unit(__inner)?; ::core::result::Result::Ok(Self::#ident) })
                        }
                        None => quote!(::core::result::Result::Err(
                            #json::unknown("variant", &__name, &[#(#names),*])
                        )),
                    };
                    quote! {
                        let (__name, __inner) = #json::variant(__v)?;
                        match __name.as_str() {
                            #arms
                            _ => #fallback,
                        }
                    }
                }
            }
        }
        Data::Union(_) => {
            return Err(syn::Error::new_spanned(
                name,
                "#[derive(FromJson)] does not read unions",
            ))
        }
    };
    let absent = absent.map(|read| {
        quote! {
            fn absent() -> ::core::result::Result<Self, #json::Error> {
                ::core::result::Result::Ok(#read)
            }
        }
    });
    Ok(quote! {
        impl #impl_generics #json::FromJson for #name #ty_generics #where_clause {
            fn from_json(__v: #json::Value) -> ::core::result::Result<Self, #json::Error> {
                #body
            }
            #absent
        }
    })
}
