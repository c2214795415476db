package registry

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the register's tables.
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "registry", FS: storage.Sub(migrationFS, "migrations")}
}

// personColumns is the column list every person read and write uses, in the
// order of scanPerson and personArgs.
const personColumns = `pin, full_name, name_folded, given_folded, other_names, birth_date, sex, ethnicity, religion, nationality,
	birthplace_commune, birthplace_detail, hometown, perm_province, perm_commune, perm_detail, perm_since,
	temp_province, temp_commune, temp_detail, temp_from, temp_to, household_id, relation,
	father_pin, mother_pin, spouse_pin, status, death_date, tax_code, social_insurance_no,
	version, updated_at, updated_by, update_reason, birth_flags`

const personPlaceholders = `$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
	$21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35, $36`

type scanner interface{ Scan(dest ...any) error }

func scanPerson(row scanner) (Person, error) {
	var p Person
	var nameFolded, givenFolded, birth, permSince, tempProv, tempCommune, tempDetail, tempFrom, tempTo, death, updated, flags string
	err := row.Scan(&p.PIN, &p.FullName, &nameFolded, &givenFolded, &p.OtherNames, &birth, &p.Sex, &p.Ethnicity, &p.Religion, &p.Nationality,
		&p.Birthplace.CommuneCode, &p.Birthplace.Detail, &p.Hometown, &p.Permanent.ProvinceCode, &p.Permanent.CommuneCode, &p.Permanent.Detail, &permSince,
		&tempProv, &tempCommune, &tempDetail, &tempFrom, &tempTo, &p.HouseholdID, &p.Relation,
		&p.FatherPIN, &p.MotherPIN, &p.SpousePIN, &p.Status, &death, &p.SectorIDs.TaxCode, &p.SectorIDs.SocialInsuranceNo,
		&p.Version, &updated, &p.UpdatedBy, &p.UpdateReason, &flags)
	if err != nil {
		return p, err
	}
	p.BirthFlags = strings.Fields(flags)
	p.BirthDate, _ = civildate.Parse(birth)
	p.PermSince = parseOptional(permSince)
	p.DeathDate = parseOptional(death)
	if tempCommune != "" {
		p.Temporary = &TempResidence{
			Address: Address{ProvinceCode: tempProv, CommuneCode: tempCommune, Detail: tempDetail},
			From:    parseOptional(tempFrom), To: parseOptional(tempTo),
		}
	}
	p.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return p, nil
}

func parseOptional(s string) civildate.Date {
	if s == "" {
		return civildate.Date{}
	}
	d, _ := civildate.Parse(s)
	return d
}

// personArgs are the values of personColumns for p.
func personArgs(p *Person) []any {
	var t TempResidence
	if p.Temporary != nil {
		t = *p.Temporary
	}
	return []any{p.PIN, p.FullName, fold.String(p.FullName), givenFolded(p.FullName), p.OtherNames, p.BirthDate.String(), p.Sex, p.Ethnicity, p.Religion, p.Nationality,
		p.Birthplace.CommuneCode, p.Birthplace.Detail, p.Hometown, p.Permanent.ProvinceCode, p.Permanent.CommuneCode, p.Permanent.Detail, p.PermSince.String(),
		t.ProvinceCode, t.CommuneCode, t.Detail, t.From.String(), t.To.String(), p.HouseholdID, p.Relation,
		p.FatherPIN, p.MotherPIN, p.SpousePIN, p.Status, p.DeathDate.String(), p.SectorIDs.TaxCode, p.SectorIDs.SocialInsuranceNo,
		p.Version, p.UpdatedAt.UTC().Format(time.RFC3339Nano), p.UpdatedBy, p.UpdateReason, strings.Join(p.BirthFlags, " ")}
}

// givenFolded is the folded given name: the last word, how people are called.
func givenFolded(fullName string) string {
	w := fold.Words(fullName)
	if len(w) == 0 {
		return ""
	}
	return w[len(w)-1]
}

var errNoPerson = errors.New("no such person")

const selectPerson = `SELECT ` + personColumns + ` FROM persons WHERE pin = $1`

// readPerson loads a person through the prepared read statement.
func readPerson(ctx context.Context, db *storage.DB, pin string) (Person, error) {
	stmt, err := db.ReadStmt(ctx, selectPerson)
	if err != nil {
		return Person{}, err
	}
	p, err := scanPerson(stmt.QueryRowContext(ctx, pin))
	if errors.Is(err, sql.ErrNoRows) {
		return p, errNoPerson
	}
	if err != nil {
		return p, fmt.Errorf("load person: %w", err)
	}
	return p, nil
}

func loadPerson(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, pin, suffix string) (Person, error) {
	p, err := scanPerson(q.QueryRowContext(ctx, selectPerson+suffix, pin))
	if errors.Is(err, sql.ErrNoRows) {
		return p, errNoPerson
	}
	if err != nil {
		return p, fmt.Errorf("load person: %w", err)
	}
	return p, nil
}

func insertPerson(ctx context.Context, tx *sql.Tx, p *Person) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO persons (`+personColumns+`) VALUES (`+personPlaceholders+`)`, personArgs(p)...); err != nil {
		return fmt.Errorf("insert person: %w", err)
	}
	return noteChange(ctx, tx, p.PIN)
}

func updatePerson(ctx context.Context, tx *sql.Tx, p *Person) error {
	if _, err := tx.ExecContext(ctx, updatePersonSQL(), personArgs(p)...); err != nil {
		return fmt.Errorf("update person: %w", err)
	}
	return noteChange(ctx, tx, p.PIN)
}

// updatePersonSQL sets every column but the key from the same arguments
// insertPerson uses.
func updatePersonSQL() string {
	cols := personColumnList()
	var sb strings.Builder
	sb.WriteString("UPDATE persons SET ")
	for i, c := range cols[1:] {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(c)
		sb.WriteString(" = $")
		sb.WriteString(strconv.Itoa(i + 2))
	}
	sb.WriteString(" WHERE pin = $1")
	return sb.String()
}

// personColumnList is personColumns as a slice.
func personColumnList() []string {
	cols := strings.Split(personColumns, ",")
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c)
	}
	return cols
}
