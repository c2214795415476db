package exchange

import (
	"context"
	"strings"
)

// DescribeAccess words a partner's audit entry for the citizen's "who
// accessed my data" page: the partner's name, the fields it received (for
// a lookup) or was told about (for a verification), and the purpose as the
// partner declared it with its legal basis. ok is false for entries not
// made by a partner of the exchange.
func (s *Store) DescribeAccess(ctx context.Context, actor, purpose, detail string) (partner, fields, why string, ok bool) {
	id, found := strings.CutPrefix(actor, "partner:")
	if !found {
		return "", "", "", false
	}
	p, err := s.Partner(ctx, id)
	if err != nil {
		return "", "", "", false
	}
	why = purpose
	if pu, ok := p.Policy.Purpose(purpose); ok {
		why = pu.Description
		if pu.Basis == BasisLaw {
			why += " — theo " + pu.Citation
		} else {
			why += " — theo sự đồng ý của bạn"
		}
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(detail) {
		if k, v, ok := strings.Cut(f, "="); ok {
			kv[k] = v
		}
	}
	switch {
	case kv["fields"] != "":
		var names []string
		for _, f := range strings.Split(kv["fields"], ",") {
			names = append(names, FieldName(f))
		}
		fields = strings.Join(names, ", ")
	case kv["result"] != "":
		fields = "Chỉ đối chiếu (khớp / không khớp), không nhận dữ liệu"
	case kv["scheme"] != "":
		fields = FieldName(SectorField(kv["scheme"]))
	}
	return p.Name, fields, why, true
}
